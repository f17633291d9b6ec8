import Testing

@testable import Massif

/// Byte counts and times from a hostile massif file: sums past 2^63 and times at the end of the range give
/// odd figures or an error, never a trap.
@Suite struct MassifOverflowTests {
    static func node(_ bytes: Int, _ name: String, _ children: [HeapNode] = []) -> HeapNode {
        HeapNode(bytes: bytes, frame: .code(CodeFrame(text: "0x1: \(name) (a.c:1)")!), children: children)
    }

    static let hugeTree = HeapTree(
        bytes: 10,
        children: [
            node(Int.max, "f", [node(Int.max, "g"), node(Int.max, "h")]),
            node(Int.max, "k"),
        ]
    )

    @Test("children whose sizes add up past 2^63 leave exclusive bytes at 0, for the tree and a node")
    func exclusiveBytes() {
        #expect(Self.hugeTree.exclusiveBytes == 0)
        #expect(Self.hugeTree.children[0].exclusiveBytes == 0)
        #expect(Self.node(Int.max, "x", [Self.node(Int.min, "y")]).exclusiveBytes == Int.max)
    }

    @Test("diffing and summing such trees (massif diff, snapctl report) does not trap")
    func diffOfHugeTrees() {
        let before = Snapshot(
            index: 0,
            time: 0,
            heapBytes: 10,
            extraBytes: 0,
            stacksBytes: 0,
            kind: .detailed,
            tree: Self.hugeTree
        )
        var after = before
        after.index = 1
        after.heapBytes = Int.max
        after.extraBytes = Int.max
        let diff = SnapshotDiff(before: before, after: after)
        #expect(diff.total.after == Int.max)
        #expect(!Self.hugeTree.functionTotals().isEmpty)
        #expect(!Self.hugeTree.pathBytes().isEmpty)
        #expect(!Self.hugeTree.topSites(3).isEmpty)
    }

    @Test("merging after a file that ends at time 2^63 - 1 is an error naming the file, not a trap")
    func mergeAtTheEndOfTime() throws {
        func file(_ times: [Int]) -> MassifFile {
            MassifFile(
                header: MassifHeader(desc: "(none)", cmd: "./a.out", timeUnit: .instructions),
                snapshots: times.enumerated().map { index, time in
                    Snapshot(
                        index: index,
                        time: time,
                        heapBytes: 1,
                        extraBytes: 0,
                        stacksBytes: 0,
                        kind: .detailed,
                        tree: nil
                    )
                }
            )
        }
        #expect {
            try MassifFile.merge([file([0, Int.max]), file([0, 10])], names: ["a.massif", "b.massif"])
        } throws: { error in
            guard let error = error as? MassifError else { return false }
            return error.fileName == "b.massif" && "\(error)".contains("64 bits")
        }
        // Times that fit are shifted as before.
        let merged = try MassifFile.merge([file([0, 100]), file([0, 10])])
        #expect(merged.snapshots.map(\.time) == [0, 100, 100, 110])
    }
}
