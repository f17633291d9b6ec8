import Foundation
import TestSupport
import Testing

@testable import Massif

/// Massif files made here, by valgrind itself, from small programs compiled for the test: every option that
/// changes the file's shape. On each: byte-exact round trip, totals equal to what ms_print prints, and every
/// snapshot diffed with itself is empty. Missing tools (cc, c++, valgrind, ms_print) fail the tests.
@Suite struct GeneratedMassifFileTests {
    struct Variant: Sendable, CustomTestStringConvertible {
        var name: String
        var cplusplus = false
        var options: [String]
        var testDescription: String { name }
    }

    static let variants = [
        Variant(name: "default", options: []),
        Variant(name: "threshold-0", options: ["--threshold=0"]),
        Variant(name: "pages-as-heap", options: ["--pages-as-heap=yes"]),
        Variant(name: "time-unit-B", options: ["--time-unit=B"]),
        Variant(name: "stacks", options: ["--stacks=yes"]),
        Variant(name: "depth-1", options: ["--depth=1"]),
        Variant(name: "every-snapshot-detailed", options: ["--detailed-freq=1", "--threshold=5"]),
        Variant(name: "c++-templates-inlined", cplusplus: true, options: ["--detailed-freq=2"]),
    ]

    static let cProgram = """
        #include <stdlib.h>
        #include <string.h>
        static void *keep[4096];
        __attribute__((noinline)) void *leaf(size_t n) { return malloc(n); }
        __attribute__((noinline)) void *mid(size_t n) { return leaf(n); }
        __attribute__((noinline)) void small_allocs(int k) { for (int i = 0; i < k; i++) keep[i] = malloc(16 + i % 7); }
        __attribute__((noinline)) void recurse(int d) {
            char buf[256]; memset(buf, d, sizeof buf);
            if (d) recurse(d - 1); else keep[3000 + buf[3]] = mid(1000);
        }
        int main(void) {
            for (int round = 0; round < 20; round++) {
                keep[2000 + round] = mid(10000 * (round + 1));
                keep[2100 + round] = leaf(3000);
                small_allocs(100 + round * 10);
                recurse(20);
                if (round % 3 == 0) { free(keep[2000 + round]); keep[2000 + round] = 0; }
                keep[2200 + round] = realloc(NULL, 5000);
            }
            return 0;
        }
        """

    static let cxxProgram = """
        #include <map>
        #include <string>
        #include <vector>
        template <typename T> struct Pool {
            std::vector<T> items;
            inline void add(const T &t) { items.push_back(t); }
        };
        static inline std::string make(int i) { return std::string(100 + i, 'x'); }
        int main() {
            Pool<std::string> pool;
            std::map<int, std::vector<int>> index;
            for (int i = 0; i < 3000; i++) {
                pool.add(make(i));
                index[i].resize(i % 50 + 1);
            }
            return (int)(pool.items.size() % 2);
        }
        """

    @Test(arguments: variants)
    func generatedFileRoundTripsAndMatchesMsPrint(variant: Variant) throws {
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try Tools.massif(variant, in: directory)
        let bytes = Array(try Data(contentsOf: output))
        let file = try MassifFile.parse(bytes, fileName: output.path)

        #expect(file.serialized() == bytes, "not a byte-exact round trip")
        #expect(file.snapshots.count > 5)
        #expect(file.snapshots.contains { $0.tree != nil })

        let rows = try Tools.msPrintTable(output)
        #expect(
            rows.count == file.snapshots.count,
            "ms_print lists \(rows.count) snapshots, we read \(file.snapshots.count)"
        )
        for (row, snapshot) in zip(rows, file.snapshots) {
            #expect(
                row == [
                    snapshot.index, snapshot.time, snapshot.totalBytes, snapshot.heapBytes, snapshot.extraBytes,
                    snapshot.stacksBytes,
                ]
            )
        }

        for snapshot in file.snapshots {
            #expect(SnapshotDiff(before: snapshot, after: snapshot).isEmpty)
        }

        let trees = file.snapshots.compactMap(\.tree)
        let allNodes = trees.flatMap { Tools.flatten($0.children) }
        switch variant.name {
        case "threshold-0":
            #expect(!allNodes.contains { $0.frame.code == nil }, "no node is below a 0% threshold")
        case "pages-as-heap":
            #expect(trees.allSatisfy { $0.top == .pageAllocationSyscalls })
        case "time-unit-B":
            #expect(file.header.timeUnit == .bytes)
        case "stacks":
            #expect(file.snapshots.contains { $0.stacksBytes > 0 })
        case "depth-1":
            #expect(trees.allSatisfy { $0.children.allSatisfy(\.children.isEmpty) })
        case "every-snapshot-detailed":
            #expect(allNodes.contains { $0.frame.code == nil }, "small allocations end below the threshold")
            #expect(allNodes.contains { $0.frame.code?.function == "mid" })
        case "c++-templates-inlined":
            #expect(allNodes.contains { $0.frame.code?.function.contains("std::vector<") == true })
            // Pool<T>::add is inlined into main: Valgrind names the inlined frame by its short name.
            #expect(allNodes.contains { $0.frame.code?.function == "add" })
            // An inlined call: a child at the same code address as its parent.
            #expect(
                allNodes.contains { node in
                    node.children.contains { $0.frame.code?.address == node.frame.code?.address }
                }
            )
        default:
            #expect(file.header.timeUnit == .instructions)
            #expect(trees.allSatisfy { $0.top == .heapAllocationFunctions })
        }
        #expect(MassifRenderer.render(file).contains("snapshot"))
    }

    @Test func mergedGeneratedFilesAreReadByMsPrint() throws {
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try Tools.massif(Self.variants[0], in: directory)
        let second = try Tools.massif(Self.variants[6], in: directory)
        let files = try [first, second].map { try MassifFile.parse(Array(Data(contentsOf: $0)), fileName: $0.path) }
        let merged = try MassifFile.merge(files)
        let output = directory.appendingPathComponent("merged.massif")
        try Data(merged.serialized()).write(to: output)
        let rows = try Tools.msPrintTable(output)
        #expect(rows.count == files[0].snapshots.count + files[1].snapshots.count)
        #expect(!(try Tools.run(["ms_print", output.path], in: directory)).contains("uninitialized"))
        #expect(rows.map { $0[0] } == Array(0..<rows.count))
    }
}

/// Running the tools the tests need.
enum Tools {
    static func temporaryDirectory() throws -> URL {
        URL(fileURLWithPath: try Scratch("massif").path)
    }

    /// Runs a program found on PATH in `directory`; a missing program or a failure is an error with its output.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL) throws -> String {
        try Programs.tool(arguments, in: directory.path)
    }

    /// Compiles the variant's program and runs it under Massif; returns the massif file.
    static func massif(_ variant: GeneratedMassifFileTests.Variant, in directory: URL) throws -> URL {
        let source = directory.appendingPathComponent(
            variant.cplusplus ? "prog-\(variant.name).cc" : "prog-\(variant.name).c"
        )
        try (variant.cplusplus ? GeneratedMassifFileTests.cxxProgram : GeneratedMassifFileTests.cProgram)
            .write(to: source, atomically: true, encoding: .utf8)
        let binary = directory.appendingPathComponent("prog-\(variant.name)")
        let compiler = variant.cplusplus ? ["c++", "-O2", "-g"] : ["cc", "-O0", "-g"]
        try run(compiler + ["-o", binary.path, source.path], in: directory)
        let output = directory.appendingPathComponent("massif-\(variant.name).out")
        try run(
            ["valgrind", "--tool=massif", "--vgdb=no", "--massif-out-file=\(output.path)"] + variant.options + [
                binary.path
            ],
            in: directory
        )
        return output
    }

    /// The snapshot table ms_print prints: n, time, total, useful-heap, extra-heap, stacks per row.
    static func msPrintTable(_ file: URL) throws -> [[Int]] {
        let text = try run(["ms_print", file.path], in: file.deletingLastPathComponent())
        var rows: [[Int]] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 6 else { continue }
            let numbers = fields.compactMap { Int($0.replacingOccurrences(of: ",", with: "")) }
            if numbers.count == 6 { rows.append(numbers) }
        }
        return rows
    }

    static func flatten(_ nodes: [HeapNode]) -> [HeapNode] {
        nodes + nodes.flatMap { flatten($0.children) }
    }
}
