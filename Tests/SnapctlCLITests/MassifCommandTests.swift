import ArgumentParser
import Foundation
import Massif
import TestSupport
import Testing

@testable import SnapctlCLI

/// Where the command tests write their Massif files: one directory for the test process, removed when the
/// process exits (the tests call ``MassifCommandTests/write(_:name:)`` from many places and keep no handle
/// to clean up after each).
enum CLIFixtures {
    /// If /tmp takes no new directory, the tests' writes below it fail and say where.
    static let directory = (try? Scratch.forProcess("cli").path) ?? "/tmp/snapctl-cli-unmade"
}

@Suite struct MassifCommandTests {
    static let file = """
        desc: --detailed-freq=1
        cmd: ./a.out
        time_unit: i
        #-----------
        snapshot=0
        #-----------
        time=0
        mem_heap_B=0
        mem_heap_extra_B=0
        mem_stacks_B=0
        heap_tree=empty
        #-----------
        snapshot=1
        #-----------
        time=10
        mem_heap_B=300
        mem_heap_extra_B=8
        mem_stacks_B=0
        heap_tree=detailed
        n2: 300 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
         n1: 200 0x401136: my_malloc (in /usr/sbin/mariadbd)
          n0: 200 0x401150: filesort(THD*) (in /usr/sbin/mariadbd)
         n0: 100 0x401160: main (a.c:9)
        #-----------
        snapshot=2
        #-----------
        time=20
        mem_heap_B=900
        mem_heap_extra_B=8
        mem_stacks_B=0
        heap_tree=peak
        n2: 900 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
         n1: 800 0x401136: my_malloc (in /usr/sbin/mariadbd)
          n0: 800 0x401150: filesort(THD*) (in /usr/sbin/mariadbd)
         n0: 100 0x401160: main (a.c:9)

        """

    /// Writes `text` to a file of its own (a directory per call, so that names may repeat) below
    /// ``CLIFixtures/directory``, which goes when the test process ends.
    static func write(_ text: String, name: String = "a.massif") throws -> URL {
        let directory = URL(fileURLWithPath: CLIFixtures.directory).appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func printShowsTableAndTrees() throws {
        let url = try Self.write(Self.file)
        let command = try #require(try Snapctl.parseAsRoot(["massif", "print", url.path]) as? MassifPrintCommand)
        let output = try command.output()
        #expect(output.contains("Command:    ./a.out"))
        #expect(output.contains("Peak:       908 B total"))
        #expect(output.contains("snapshot 2 (peak) at 20 i: 908 B total"))
        #expect(output.contains(" 88.11%            800   my_malloc <- filesort(THD*)"))
    }

    @Test func summaryJSONHasEverySnapshotAndThePeak() throws {
        let url = try Self.write(Self.file)
        let command = try #require(
            try Snapctl.parseAsRoot(["massif", "summary", url.path, "--json"]) as? MassifSummaryCommand
        )
        let json = try JSONSerialization.jsonObject(with: Data(try command.output().utf8)) as? [String: Any]
        let snapshots = try #require(json?["snapshots"] as? [[String: Any]])
        #expect(snapshots.count == 3)
        #expect(snapshots[2]["total_B"] as? Int == 908)
        #expect(snapshots[2]["kind"] as? String == "peak")
        #expect(snapshots[1]["heap_B"] as? Int == 300)
        let peak = try #require(json?["peak"] as? [String: Any])
        #expect(peak["index"] as? Int == 2)
    }

    @Test func diffFoldsWrappersAndPicksSnapshots() throws {
        let url = try Self.write(Self.file)
        let command = try #require(
            try Snapctl.parseAsRoot(["massif", "diff", url.path, "--snapshot", "1:2", "--json"]) as? MassifDiffCommand
        )
        let diff = try JSONDecoder().decode(SnapshotDiff.self, from: Data(try command.output().utf8))
        #expect(diff.heap.delta == 600)
        #expect(diff.paths.first?.path == ["0x401150: filesort(THD*) (in /usr/sbin/mariadbd)"])
        #expect(diff.functions.map(\.function) == ["filesort(THD*)"])

        let light = try #require(
            try Snapctl.parseAsRoot(["massif", "diff", url.path, "--snapshot", "0:2"]) as? MassifDiffCommand
        )
        #expect(try light.output().contains("totals only"))
        #expect(throws: (any Error).self) { try Snapctl.parseAsRoot(["massif", "diff", url.path, "--snapshot", "x"]) }
    }

    @Test func mergeWritesOneRenumberedFile() throws {
        let first = try Self.write(Self.file)
        let second = try Self.write(Self.file, name: "b.massif")
        let out = first.deletingLastPathComponent().appendingPathComponent("merged.massif")
        let command = try #require(
            try Snapctl.parseAsRoot(["massif", "merge", first.path, second.path, "-o", out.path]) as? MassifMergeCommand
        )
        try command.run()
        let merged = try MassifFile.parse(Array(try Data(contentsOf: out)), fileName: "merged")
        #expect(merged.snapshots.map(\.index) == Array(0..<6))
        #expect(merged.snapshots.filter { $0.kind == .peak }.count == 1)
    }

    @Test func badFilesGiveFileLineErrors() async throws {
        let url = try Self.write(Self.file.replacingOccurrences(of: "time=10", with: "time=ten"))
        let command = try #require(try Snapctl.parseAsRoot(["massif", "print", url.path]) as? MassifPrintCommand)
        #expect {
            try command.output()
        } throws: { error in
            (error as? MassifError)?.description.hasPrefix("\(url.path):15: expected a number after \"time=\"") == true
        }
        let directory = url.deletingLastPathComponent()
        let onDirectory = try #require(
            try Snapctl.parseAsRoot(["massif", "summary", directory.path]) as? MassifSummaryCommand
        )
        #expect {
            try onDirectory.output()
        } throws: { error in
            (error as? MassifError)?.description == "\(directory.path): expected a massif file, got a directory"
        }
        let empty = try Self.write("", name: "empty.massif")
        let onEmpty = try #require(try Snapctl.parseAsRoot(["massif", "print", empty.path]) as? MassifPrintCommand)
        #expect(throws: MassifError.self) { try onEmpty.output() }
        await #expect(throws: ExitCode.self) { try await onEmpty.run() }
    }
}

@Suite struct MassifFoldCommandTests {
    func run(_ arguments: [String]) throws -> String {
        let command = try #require(try Snapctl.parseAsRoot(["massif", "fold"] + arguments) as? MassifFoldCommand)
        return try command.output()
    }

    @Test func foldsTheLastDetailedSnapshotToItsHeap() throws {
        let url = try MassifCommandTests.write(MassifCommandTests.file)
        let text = try run([url.path])
        #expect(
            text == "(heap allocation functions);filesort(THD*);my_malloc 800\n(heap allocation functions);main 100\n"
        )
        let sum = text.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
            .reduce(0, +)
        #expect(sum == 900)
        #expect(try run([url.path, "--snapshot", "1"]).contains("filesort(THD*);my_malloc 200"))
    }

    @Test func diffIsSignedGrowth() throws {
        let url = try MassifCommandTests.write(MassifCommandTests.file)
        #expect(
            try run([url.path, "--diff", "1", "2"]) == "(heap allocation functions);filesort(THD*);my_malloc 600\n"
        )
        #expect(
            try run([url.path, "--diff", "2", "1"]) == "(heap allocation functions);filesort(THD*);my_malloc -600\n"
        )
    }

    @Test func aLightSnapshotSaysThereIsNoTree() throws {
        let url = try MassifCommandTests.write(MassifCommandTests.file)
        #expect {
            try run([url.path, "--snapshot", "0"])
        } throws: { error in
            let text = "\(error)"
            return text.contains(url.path) && text.contains("snapshot 0 is light") && text.contains("no tree")
        }
        let light = try MassifCommandTests.write(
            "desc: x\ncmd: a\ntime_unit: i\n#-----------\nsnapshot=0\n#-----------\ntime=0\nmem_heap_B=5\n"
                + "mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=empty\n"
        )
        #expect {
            try run([light.path])
        } throws: { error in
            "\(error)".contains("1 light snapshot with no tree")
        }
    }

    @Test func badArgumentsAreRefused() throws {
        let url = try MassifCommandTests.write(MassifCommandTests.file)
        #expect(throws: (any Error).self) { try Snapctl.parseAsRoot(["massif", "fold", url.path, "--diff", "1"]) }
        #expect(throws: (any Error).self) {
            try Snapctl.parseAsRoot(["massif", "fold", url.path, "--diff", "1", "2", "--snapshot", "1"])
        }
    }
}
