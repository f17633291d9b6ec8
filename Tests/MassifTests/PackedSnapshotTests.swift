import TestSupport
import Testing

@testable import Massif

/// Packed trees (what `snapctl massif print` renders) against nested ones, the printer on both, and a file
/// read in two parts by a parser and a continuation parser.
@Suite struct PackedSnapshotTests {
    static let names = Fixtures.massifNames + ["mariadbd-pages-as-heap"]

    /// Every event of the file, packed, in one go.
    static func packedEvents(_ bytes: [UInt8], name: String) throws -> [MassifParser.PackedEvent] {
        var parser = MassifParser(fileName: name)
        parser.feed(bytes)
        parser.endInput()
        var events: [MassifParser.PackedEvent] = []
        while let event = try parser.nextPacked() { events.append(event) }
        return events
    }

    @Test(arguments: names)
    func packedTreesAreTheNestedTrees(name: String) throws {
        let bytes = try Fixtures.massif(name)
        let nested = try MassifFile.parse(bytes, fileName: name)
        let events = try Self.packedEvents(bytes, name: name)
        #expect(events.first == .header(nested.header))
        var table: [Frame] = []
        var snapshots: [PackedSnapshot] = []
        for case .snapshot(let snapshot) in events.dropFirst() {
            table += snapshot.newFrames
            snapshots.append(snapshot)
        }
        #expect(snapshots.count == nested.snapshots.count)
        // Frames are numbered once for the file: as many as distinct descriptions, each made once.
        #expect(Set(table).count == table.count)
        for (packed, snapshot) in zip(snapshots, nested.snapshots) {
            #expect(packed.snapshot(frames: table) == snapshot)
            #expect(packed.totalBytes == snapshot.totalBytes)
            guard let tree = packed.tree else {
                #expect(snapshot.tree == nil)
                continue
            }
            #expect(tree.nodes[0].frame == -1)
            #expect(tree.nodes[0].end == tree.nodes.count)
            for (position, node) in tree.nodes.enumerated() {
                #expect(node.end > position && node.end <= tree.nodes.count)
                #expect(position == 0 || (node.frame >= 0 && Int(node.frame) < table.count))
            }
        }
    }

    @Test(arguments: names, [0.0, 1.0, 5.5])
    func printerPrintsPackedSnapshotsAsNestedOnes(name: String, threshold: Double) throws {
        let bytes = try Fixtures.massif(name)
        let file = try MassifFile.parse(bytes, fileName: name)
        for only in [nil, Set([file.snapshots.count - 1, 1])] as [Set<Int>?] {
            let options = MassifRenderer.Options(threshold: threshold, treeSnapshots: only)
            var printer: MassifPrinter?
            for event in try Self.packedEvents(bytes, name: name) {
                switch event {
                case .header(let header): printer = MassifPrinter(header: header, options: options)
                case .snapshot(let snapshot): printer?.add(snapshot)
                }
            }
            let packed = try #require(printer).finish()
            #expect(packed == MassifRenderer.render(file, options: options))
            var pieces: [UInt8] = []
            try #require(printer).finish { pieces += $0 }
            #expect(pieces == Array(packed.utf8))
        }
    }

    /// The offset of each line that starts a snapshot, after the first snapshot.
    static func snapshotStarts(_ bytes: [UInt8]) -> [Int] {
        let marker = Array("\n#-----------\nsnapshot=".utf8)
        var starts: [Int] = []
        var index = 0
        while index + marker.count <= bytes.count {
            if bytes[index] == 0x0A && Array(bytes[index..<(index + marker.count)]) == marker {
                starts.append(index + 1)
            }
            index += 1
        }
        return Array(starts.dropFirst())
    }

    @Test(arguments: ["mariadbd-all-snapshots", "mariadbd-final", "mariadbd-pages-as-heap"])
    func aContinuationParserReadsTheRestOfAFile(name: String) throws {
        let bytes = try Fixtures.massif(name)
        let whole = try MassifFile.parse(bytes, fileName: name)
        let wholePrint = MassifRenderer.render(whole, options: MassifRenderer.Options(threshold: 0.5))
        let starts = Self.snapshotStarts(bytes)
        #expect(starts.count == whole.snapshots.count - 1)
        for cut in [starts[0], starts[starts.count / 2], starts[starts.count - 1]] {
            var first = MassifParser(fileName: name)
            var printer: MassifPrinter?
            var taken = 0
            try Array(bytes[..<cut]).withUnsafeBytes { raw in
                try first.consumePacked(raw) { event in
                    switch event {
                    case .header(let header):
                        printer = MassifPrinter(header: header, options: MassifRenderer.Options(threshold: 0.5))
                    case .snapshot(let snapshot):
                        printer?.add(snapshot)
                        taken += 1
                    }
                }
            }
            #expect(first.isBetweenSnapshots)
            var rest = MassifParser.continuation(fileName: name)
            let restPrinter = try #require(printer.map { MassifPrinter(header: $0.header, options: $0.options) })
            var second = restPrinter
            var restSnapshots: [Snapshot] = []
            var table: [Frame] = []
            try Array(bytes[cut...]).withUnsafeBytes { raw in
                try rest.consumePacked(raw) { event in
                    guard case .snapshot(let snapshot) = event else {
                        Issue.record("a continuation parser produced a header")
                        return
                    }
                    table += snapshot.newFrames
                    restSnapshots.append(snapshot.snapshot(frames: table))
                    second.add(snapshot)
                }
            }
            rest.endInput()
            #expect(try rest.nextPacked() == nil)
            #expect(rest.isBetweenSnapshots)
            #expect(restSnapshots == Array(whole.snapshots[taken...]))
            var joined = try #require(printer)
            joined.append(second)
            #expect(joined.finish() == wholePrint)
        }
    }

    @Test func insideASnapshotIsNotBetweenSnapshots() throws {
        let bytes = try Fixtures.massif("mariadbd-all-snapshots")
        var parser = MassifParser(fileName: "a")
        #expect(!parser.isBetweenSnapshots)
        let cut = Self.snapshotStarts(bytes)[2]
        parser.feed(bytes[..<cut])
        while try parser.nextPacked() != nil {}
        #expect(parser.isBetweenSnapshots)
        // One line of the next snapshot, or half a line, and the parser is inside it.
        parser.feed(bytes[cut..<(cut + 13)])
        while try parser.nextPacked() != nil {}
        #expect(!parser.isBetweenSnapshots)
        var half = MassifParser(fileName: "a")
        half.feed(bytes[..<(cut + 5)])
        while try half.nextPacked() != nil {}
        #expect(!half.isBetweenSnapshots)
    }

    /// Two detailed snapshots whose second tree is `second`; the first tree has the same frames at the same
    /// positions, so every frame of the second is found by the prediction from the first.
    static func twoTrees(second: String) -> String {
        let head = """
            desc: (none)
            cmd: ./a.out
            time_unit: i

            """
        func snapshot(_ index: Int, _ tree: String) -> String {
            """
            #-----------
            snapshot=\(index)
            #-----------
            time=\(index)
            mem_heap_B=300
            mem_heap_extra_B=0
            mem_stacks_B=0
            heap_tree=detailed
            n2: 300 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
            \(tree)
            """
        }
        let first = """
             n1: 200 0x401136: f (a.c:3)
              n0: 200 0x401150: main (a.c:9)
             n0: 100 in 2 places, all below massif's threshold (1.00%)

            """
        return head + snapshot(0, first) + snapshot(1, second)
    }

    @Test func predictedFramesAreCheckedLikeNewOnes() throws {
        let same = Self.twoTrees(
            second: """
                 n1: 250 0x401136: f (a.c:3)
                  n0: 250 0x401150: main (a.c:9)
                 n0: 50 in 2 places, all below massif's threshold (1.00%)

                """
        )
        let file = try MassifFile.parse(same, fileName: "same")
        #expect(
            file.snapshots[1].tree
                == file.snapshots[0].tree.map { tree in
                    var tree = tree
                    tree.children[0].bytes = 250
                    tree.children[0].children[0].bytes = 250
                    tree.children[1].bytes = 50
                    return tree
                }
        )
        #expect(file.serializedText() == same)
        // The below-threshold line, at the position where the first tree had it, with a child.
        let parent = Self.twoTrees(
            second: """
                 n1: 250 0x401136: f (a.c:3)
                  n0: 250 0x401150: main (a.c:9)
                 n1: 50 in 2 places, all below massif's threshold (1.00%)
                  n0: 50 0x401150: main (a.c:9)

                """
        )
        #expect {
            try MassifFile.parse(parent, fileName: "parent.massif")
        } throws: { error in
            let error = error as? MassifError
            return error?.line == 27 && error?.description.contains("below massif's threshold (<t>%)") == true
        }
        // The frame the first tree had there, at another depth.
        let deeper = Self.twoTrees(
            second: """
                 n1: 250 0x401136: f (a.c:3)
                   n0: 250 0x401150: main (a.c:9)
                 n0: 50 in 2 places, all below massif's threshold (1.00%)

                """
        )
        #expect {
            try MassifFile.parse(deeper, fileName: "deeper.massif")
        } throws: { error in
            (error as? MassifError)?.description.hasPrefix(
                "deeper.massif:26: expected child 1 of 1 of the node at line 25"
            ) == true
        }
    }

    @Test func numbersOfEveryLengthParseAndOverflowIsAnError() throws {
        // A node's bytes of 1 to 19 digits (the most an Int holds), each in a tree of its own.
        for digits in 1...19 {
            let value = digits == 19 ? Int.max : Int(String(repeating: "9", count: digits))!
            let text = """
                desc: (none)
                cmd: ./a.out
                time_unit: i
                #-----------
                snapshot=0
                #-----------
                time=\(value)
                mem_heap_B=\(Int.max)
                mem_heap_extra_B=0
                mem_stacks_B=0
                heap_tree=detailed
                n1: \(value) (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
                 n0: \(value) 0x1: f

                """
            let file = try MassifFile.parse(text, fileName: "digits")
            #expect(file.snapshots[0].time == value)
            #expect(file.snapshots[0].tree?.bytes == value)
            #expect(file.snapshots[0].tree?.children[0].bytes == value)
            #expect(file.serializedText() == text)
        }
        let base = """
            desc: (none)
            cmd: ./a.out
            time_unit: i
            #-----------
            snapshot=0
            #-----------
            time=0
            mem_heap_B=\(Int.max)
            mem_heap_extra_B=0
            mem_stacks_B=0
            heap_tree=detailed
            n1: 100 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
             NODE

            """
        for bad in [
            "n0: 9223372036854775808 0x1: f", "n0: 99999999999999999999 0x1: f", "n0: 0100 0x1: f",
            "n00: 100 0x1: f", "n0: 1\u{00B9}0 0x1: f", "n0: 10a 0x1: f", "n0:100 0x1: f",
        ] {
            #expect {
                try MassifFile.parse(base.replacingOccurrences(of: "NODE", with: bad), fileName: "bad.massif")
            } throws: { error in
                (error as? MassifError)?.description.hasPrefix("bad.massif:13: expected a tree node line") == true
            }
        }
        let zero = try MassifFile.parse(base.replacingOccurrences(of: "NODE", with: "n0: 0 0x1: f"), fileName: "z")
        #expect(zero.snapshots[0].tree?.children[0].bytes == 0)
    }
}
