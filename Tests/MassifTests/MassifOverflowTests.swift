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

    /// Two siblings of the same function, each at `Int.max`: every sum over them is past 2^63.
    static let twinTree = HeapTree(
        bytes: Int.max,
        children: [node(Int.max, "f", [node(Int.max, "g")]), node(Int.max, "f", [node(Int.max, "g")])]
    )

    @Test("sums over sibling sites saturate at Int.max instead of wrapping to a negative figure")
    func sumsSaturate() throws {
        let totals = Self.twinTree.functionTotals(folding: .none)
        let f = try #require(totals.first { $0.function == "f" })
        #expect(f.inclusiveBytes == Int.max)
        #expect(f.directBytes == Int.max)
        #expect(Self.twinTree.pathBytes().values.allSatisfy { $0 == Int.max })
        let merged = HeapTree.mergeSiblings(Self.twinTree.children)
        #expect(merged.count == 1)
        #expect(merged[0].bytes == Int.max)
        let stacks = CollapsedStacks.fold(Self.twinTree)
        #expect(stacks.allSatisfy { $0.bytes >= 0 })
        #expect(stacks.contains { $0.bytes == Int.max })
        let diff = CollapsedStacks.diff(before: HeapTree(bytes: 0, children: []), after: Self.twinTree)
        #expect(diff.allSatisfy { $0.bytes > 0 })
        let change = SnapshotDiff.Change(before: Int.min, after: Int.max)
        #expect(change.delta == Int.max)
    }

    @Test("hidden sites below the render threshold add up without wrapping")
    func hiddenBytesSaturate() {
        let tree = HeapTree(
            bytes: Int.max,
            children: [
                Self.node(Int.max, "big"),
                HeapNode(bytes: Int.max, frame: .belowThreshold(places: Int.max, thresholdHundredths: 100)),
                HeapNode(bytes: Int.max, frame: .belowThreshold(places: Int.max, thresholdHundredths: 100)),
            ]
        )
        var text = ""
        MassifRenderer.renderTree(tree, total: Int.max, threshold: 1.0, into: &text)
        #expect(text.contains("(\(Int.max) places below the threshold)"))
        #expect(!text.contains("-"))
    }

    @Test("a line longer than 1 MiB is an error naming the file and line, whether fed or consumed in chunks")
    func overlongLine() throws {
        let header = Array("desc: (none)\ncmd: ./a.out\ntime_unit: i\n".utf8)
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: MassifParser.maximumLineLength + 1)
        var fed = MassifParser(fileName: "long.massif")
        fed.feed(header + long)
        #expect {
            while try fed.next() != nil {}
        } throws: { error in
            guard let error = error as? MassifError else { return false }
            return error.fileName == "long.massif" && error.line == 4 && "\(error)".contains("without a newline")
        }
        var consumed = MassifParser(fileName: "long.massif")
        let chunk = [UInt8](repeating: UInt8(ascii: "y"), count: 64 * 1024)
        #expect {
            try header.withUnsafeBytes { raw in try consumed.consume(raw) { _ in } }
            // Without a newline the parser would keep every chunk: it must stop at the limit.
            for _ in 0..<20 {
                try chunk.withUnsafeBytes { raw in try consumed.consume(raw) { _ in } }
            }
        } throws: { error in
            guard let error = error as? MassifError else { return false }
            return error.line == 4 && "\(error)".contains("1 MiB")
        }
    }
}
