import Foundation
import TestSupport
import Testing

@testable import Massif

/// Xtree memory dumps (`xtmemory FILE`) in both formats: the checked-in ones are real dumps of a small program
/// (Tests/TestSupport/Fixtures/xtree-{before,after}.{ms,kcg}, taken before and after it allocated more), and one
/// test makes its own with valgrind.
@Suite struct XTreeTests {
    static func massifDump(_ name: String) throws -> XTreeDump {
        let file = try MassifFile.parse(Fixtures.bytes(name), fileName: name)
        return try #require(XTreeDump(massif: file), "\(name) is not read as an xtree dump")
    }

    /// Inclusive count per function name, every frame kept.
    static func byFunction(_ tree: HeapTree) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: tree.functionTotals(folding: .none).map { ($0.function, $0.inclusiveBytes) })
    }

    @Test(arguments: ["xtree-before.ms", "xtree-after.ms"])
    func massifFormatParsesWithTypedEventsAndRoundTrips(name: String) throws {
        let bytes = try Fixtures.bytes(name)
        let file = try MassifFile.parse(bytes, fileName: name)
        #expect(file.serialized() == bytes)
        #expect(file.header.desc == "xtree.produce_report")
        let dump = try #require(XTreeDump(massif: file))
        #expect(dump.format == .massif)
        #expect(dump.events == XTreeEvent.allCases)
        #expect(file.snapshots.map { $0.tree?.top.xtreeEvent } == XTreeEvent.allCases)
        #expect(XTreeDump.isXTree(file))
    }

    @Test func theTreesSayWhatTheProgramDid() throws {
        let before = try Self.massifDump("xtree-before.ms")
        let after = try Self.massifDump("xtree-after.ms")
        // Before: 4 x 4096 through filesort, 10000 through join_cache; after: 4 x 8192 more, join_cache freed.
        #expect(before.tree(.currentBytes)?.bytes == 26384)
        #expect(before.tree(.currentBlocks)?.bytes == 5)
        #expect(after.tree(.currentBytes)?.bytes == 16384 + 32768)
        #expect(after.tree(.totalBytes)?.bytes == 26384 + 32768 + 10000)
        #expect(after.tree(.freedBytes)?.bytes == 10000 + 10000)
        let allocated = try #require(after.tree(.totalBytes))
        #expect(Self.byFunction(allocated)["filesort"] == 16384 + 32768)
        #expect(Self.byFunction(allocated)["churn"] == 10000)
    }

    @Test(arguments: ["xtree-before", "xtree-after"])
    func callgrindFormatGivesTheSameCountsAsTheMassifFormat(name: String) throws {
        let massif = try Self.massifDump(name + ".ms")
        let callgrind = try XTreeCallgrindParser.parse(Fixtures.bytes(name + ".kcg"), fileName: name + ".kcg")
        #expect(callgrind.format == .callgrind)
        #expect(callgrind.events == XTreeEvent.allCases)
        #expect(callgrind.command == "./xt")
        #expect(callgrind.pid != nil)
        for event in XTreeEvent.allCases {
            let a = try #require(massif.tree(event))
            let b = try #require(callgrind.tree(event))
            #expect(a.bytes == b.bytes, "\(event) total")
            #expect(b.top == TopDescription(event))
            // The Massif format lists zero counts; the callgrind one has none.
            let nonZero = Self.byFunction(a).filter { $0.value > 0 }
            #expect(nonZero == Self.byFunction(b), "\(event) per function")
        }
        let frame = try #require(callgrind.tree(.currentBytes)?.children.first?.frame.code)
        #expect(frame.function == "my_malloc")
        #expect(frame.location?.hasSuffix("xt.c:7") == true)
        // Through the Massif model, a callgrind dump is one detailed snapshot per event.
        let file = callgrind.massifFile()
        #expect(file.snapshots.map(\.index) == Array(0..<6))
        #expect(try MassifFile.parse(file.serialized(), fileName: "again") == file)
    }

    @Test(arguments: [1, 13, 4096])
    func callgrindChunksGiveTheSameDump(chunk: Int) throws {
        let bytes = try Fixtures.bytes("xtree-after.kcg")
        let whole = try XTreeCallgrindParser.parse(bytes, fileName: "a")
        var parser = XTreeCallgrindParser(fileName: "a")
        var start = 0
        while start < bytes.count {
            let piece = Array(bytes[start..<min(bytes.count, start + chunk)])
            var failure: MassifError?
            piece.withUnsafeBytes { raw in
                do throws(MassifError) { try parser.consume(raw) } catch { failure = error }
            }
            if let failure { throw failure }
            start += chunk
        }
        #expect(try parser.finish() == whole)
    }

    static let minimal = """
        # callgrind format
        version: 1
        creator: xtree-1
        pid: 7
        cmd: ./a

        positions: line
        event: curB : currently allocated Bytes
        event: curBk : currently allocated Blocks
        events: curB  curBk
        fl=(1) a.c
        fn=(1) main
        9
        cfi=(1)
        cfn=(2) f
        calls=0 5
        9 100 1
        fl=(1)
        fn=(2)
        5 100 1

        fl=(1)
        fn=(1)
        12 50 2

        totals: 150 3

        """

    @Test func allocsOnlyDumpHasTwoEvents() throws {
        let dump = try XTreeCallgrindParser.parse(Array(Self.minimal.utf8), fileName: "m")
        #expect(dump.events == [.currentBytes, .currentBlocks])
        #expect(dump.tree(.currentBytes)?.bytes == 150)
        #expect(dump.tree(.currentBytes)?.children.map(\.frame.text) == ["0x0: f (a.c:5)", "0x0: main (a.c:12)"])
        #expect(dump.tree(.currentBlocks)?.children.map(\.bytes) == [2, 1])
    }

    static let badInputs: [(name: String, text: String, line: Int, message: String)] = [
        (
            "totals that do not add up", minimal.replacingOccurrences(of: "totals: 150 3", with: "totals: 151 3"), 26,
            "expected totals equal to the sums of the stacks (150 3)"
        ),
        (
            "a name number never defined", minimal.replacingOccurrences(of: "cfn=(2) f", with: "cfn=(2)"), 15,
            "expected a name number defined earlier in the file"
        ),
        (
            "too few costs", minimal.replacingOccurrences(of: "5 100 1", with: "5 100"), 20,
            "expected 2 costs, one per event"
        ),
        (
            "a cost past Int.max", minimal.replacingOccurrences(of: "12 50 2", with: "12 99999999999999999999 2"), 24,
            "expected a position line"
        ),
        (
            "sums past Int.max",
            minimal.replacingOccurrences(of: "5 100 1", with: "5 9223372036854775807 1")
                .replacingOccurrences(of: "9 100 1", with: "9 9223372036854775807 1"), 25,
            "expected costs whose sums stay below"
        ),
        (
            "not an xtree dump", minimal.replacingOccurrences(of: "events: curB  curBk", with: "events: Ir"), 10,
            "expected xtree events (curB curBk totB totBk totFdB totFdBk)"
        ),
        (
            "no totals", minimal.replacingOccurrences(of: "totals: 150 3\n", with: ""), 26,
            "expected a \"totals:\" line, got end of file"
        ),
        ("no final newline", String(minimal.dropLast()), 26, "expected a line ending in a newline"),
        (
            "a stack without its cost", minimal.replacingOccurrences(of: "12 50 2", with: "12"), 25,
            "expected the stack's cost on its last frame's line"
        ),
        (
            "a line of another format", minimal.replacingOccurrences(of: "calls=0 5", with: "jump=1 5"), 16,
            "expected an xtree callgrind line"
        ),
    ]

    @Test(arguments: badInputs.indices)
    func badCallgrindInputGivesALineNumberedError(index: Int) {
        let bad = Self.badInputs[index]
        do {
            let dump = try XTreeCallgrindParser.parse(Array(bad.text.utf8), fileName: "bad.kcg")
            Issue.record("\(bad.name): parsed \(dump.events) instead of failing")
        } catch {
            #expect(error.line == bad.line, "\(bad.name): \(error)")
            #expect(error.description.hasPrefix("bad.kcg:\(bad.line): "), "\(bad.name): \(error)")
            #expect(error.description.contains(bad.message), "\(bad.name): \(error)")
        }
    }

    @Test func aHugeLineIsRefusedNotBuffered() {
        let text = Array((Self.minimal + "fn=(9) " + String(repeating: "x", count: 2 << 20)).utf8)
        #expect {
            _ = try XTreeCallgrindParser.parse(text, fileName: "huge.kcg")
        } throws: { error in
            (error as? MassifError)?.description.hasPrefix("huge.kcg:27: expected a line of at most 1048576 bytes")
                == true
        }
    }

    /// A program under `valgrind --tool=massif --xtree-memory=full --vgdb=yes`, dumped with vgdb `xtmemory` in
    /// both formats while it waits: both parse and agree, and they hold the program's allocations.
    @Test func dumpsMadeByValgrindParseInBothFormats() throws {
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("xt.c")
        try """
        #include <stdio.h>
        #include <stdlib.h>
        #include <unistd.h>
        static void *keep[64];
        __attribute__((noinline)) void *sort_buffer(size_t n) { return malloc(n); }
        __attribute__((noinline)) void *join_cache(size_t n) { return calloc(1, n); }
        int main(int argc, char **argv) {
            for (int i = 0; i < 6; i++) keep[i] = sort_buffer(5000);
            keep[10] = join_cache(70000);
            for (int i = 0; i < 20; i++) free(malloc(300));
            FILE *ready = fopen(argv[1], "w"); fclose(ready);
            for (;;) pause();
        }
        """.write(to: source, atomically: true, encoding: .utf8)
        let binary = directory.appendingPathComponent("xt")
        try Tools.run(["cc", "-O0", "-g", "-o", binary.path, source.path], in: directory)
        let prefix = directory.appendingPathComponent("vgdb").path
        let ready = directory.appendingPathComponent("ready").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "valgrind", "--tool=massif", "--xtree-memory=full", "--vgdb=yes", "--vgdb-prefix=\(prefix)",
            "--massif-out-file=\(directory.path)/massif.out", "--xtree-memory-file=\(directory.path)/exit.kcg",
            "--log-file=\(directory.path)/valgrind.log", binary.path, ready,
        ]
        process.currentDirectoryURL = directory
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        var waited = 0
        while !FileManager.default.fileExists(atPath: ready) && process.isRunning && waited < 6000 {
            usleep(10_000)
            waited += 1
        }
        try #require(FileManager.default.fileExists(atPath: ready), "the program under valgrind never got ready")
        let pid = String(process.processIdentifier)
        for name in ["dump.ms", "dump.kcg"] {
            try Tools.run(
                ["vgdb", "--vgdb-prefix=\(prefix)", "--pid=\(pid)", "xtmemory", directory.path + "/" + name],
                in: directory
            )
        }
        let massifBytes = Array(try Data(contentsOf: directory.appendingPathComponent("dump.ms")))
        let massif = try #require(XTreeDump(massif: try MassifFile.parse(massifBytes, fileName: "dump.ms")))
        let callgrindBytes = Array(try Data(contentsOf: directory.appendingPathComponent("dump.kcg")))
        let callgrind = try XTreeCallgrindParser.parse(callgrindBytes, fileName: "dump.kcg")
        #expect(massif.events == XTreeEvent.allCases)
        #expect(callgrind.events == XTreeEvent.allCases)
        for event in XTreeEvent.allCases {
            #expect(massif.tree(event)?.bytes == callgrind.tree(event)?.bytes, "\(event)")
        }
        let inUse = try #require(callgrind.tree(.currentBytes))
        #expect(Self.byFunction(inUse)["sort_buffer"] == 30000)
        #expect(Self.byFunction(inUse)["join_cache"] == 70000)
        let allocated = try #require(massif.tree(.totalBytes))
        #expect(Self.byFunction(allocated)["main"].map { $0 >= 30000 + 70000 + 6000 } == true)
        let freed = try #require(massif.tree(.freedBlocks))
        #expect(freed.bytes >= 20)
    }
}
