import TestSupport
import Testing

@testable import Massif

@Suite struct MassifParserTests {
    @Test(arguments: Fixtures.massifNames)
    func fixtureRoundTripsByteForByte(name: String) throws {
        let bytes = try Fixtures.massif(name)
        let file = try MassifFile.parse(bytes, fileName: name)
        #expect(file.serialized() == bytes)
        #expect(!file.snapshots.isEmpty)
        for (position, snapshot) in file.snapshots.enumerated() {
            #expect(snapshot.index == position)
            #expect((snapshot.tree != nil) == (snapshot.kind != .empty))
            if let tree = snapshot.tree {
                #expect(tree.bytes == snapshot.heapBytes)
            }
        }
    }

    @Test(arguments: Fixtures.massifNames, [1, 7, 4096])
    func streamingInChunksGivesTheSameFile(name: String, chunk: Int) throws {
        let bytes = try Fixtures.massif(name)
        let whole = try MassifFile.parse(bytes, fileName: name)
        var parser = MassifParser(fileName: name)
        var header: MassifHeader?
        var snapshots: [Snapshot] = []
        var start = 0
        while start < bytes.count {
            parser.feed(bytes[start..<min(bytes.count, start + chunk)])
            start += chunk
            while let event = try parser.next() {
                switch event {
                case .header(let value): header = value
                case .snapshot(let snapshot): snapshots.append(snapshot)
                }
            }
        }
        parser.endInput()
        #expect(try parser.next() == nil)
        #expect(header == whole.header)
        #expect(snapshots == whole.snapshots)
    }

    @Test(arguments: Fixtures.massifNames, [1, 5, 64, 1 << 20])
    func consumingChunksInPlaceGivesTheSameFile(name: String, chunk: Int) throws {
        let bytes = try Fixtures.massif(name)
        let whole = try MassifFile.parse(bytes, fileName: name)
        var parser = MassifParser(fileName: name)
        var header: MassifHeader?
        var snapshots: [Snapshot] = []
        var start = 0
        while start < bytes.count {
            let piece = Array(bytes[start..<min(bytes.count, start + chunk)])
            try piece.withUnsafeBytes { raw in
                try parser.consume(raw) { event in
                    switch event {
                    case .header(let value): header = value
                    case .snapshot(let snapshot): snapshots.append(snapshot)
                    }
                }
            }
            start += chunk
        }
        parser.endInput()
        #expect(try parser.next() == nil)
        #expect(header == whole.header)
        #expect(snapshots == whole.snapshots)
    }

    @Test func consumeReportsTheLineOfABadLineInALaterChunk() throws {
        let text = Array(Self.minimal.replacingOccurrences(of: "time=10\n", with: "time=1O\n").utf8)
        var parser = MassifParser(fileName: "chunked.massif")
        var caught: MassifError?
        do {
            for piece in stride(from: 0, to: text.count, by: 7) {
                let slice = Array(text[piece..<min(text.count, piece + 7)])
                try slice.withUnsafeBytes { raw in try parser.consume(raw) { _ in } }
            }
        } catch {
            caught = error as? MassifError
        }
        #expect(caught?.line == 15)
        #expect(caught?.description.hasPrefix("chunked.massif:15: expected a number after \"time=\"") == true)
    }

    @Test func streamingYieldsEachSnapshotAsSoonAsItsLastLineArrives() throws {
        let bytes = try Fixtures.massif("mariadbd-snapshot")
        var parser = MassifParser(fileName: "s")
        parser.feed(bytes.dropLast())
        #expect(try parser.next() == .header(try Fixtures.file("mariadbd-snapshot").header))
        #expect(try parser.next() == nil)
        parser.feed([0x0A])
        guard case .snapshot(let snapshot) = try parser.next() else {
            Issue.record("expected the snapshot once its newline arrived")
            return
        }
        #expect(snapshot.kind == .empty)
        #expect(snapshot.heapBytes == 46_563_965)
    }

    @Test func detailedSnapshotHasTheValuesOfTheFile() throws {
        let file = try Fixtures.file("mariadbd-detailed-snapshot")
        #expect(file.header.timeUnit == .instructions)
        #expect(file.header.desc == "--massif-out-file=/var/tmp/snapctl-demo/massif.out.%p")
        #expect(file.header.cmd.hasPrefix("/usr/sbin/mariadbd --no-defaults"))
        let snapshot = try #require(file.snapshots.first)
        #expect(snapshot.time == 90_772_283)
        #expect(snapshot.heapBytes == 46_478_421)
        #expect(snapshot.extraBytes == 87_611)
        #expect(snapshot.totalBytes == 46_478_421 + 87_611)
        let tree = try #require(snapshot.tree)
        #expect(tree.top == .heapAllocationFunctions)
        #expect(tree.children.count == 5)
        let first = tree.children[0]
        #expect(first.bytes == 35_283_848)
        #expect(first.frame.code?.function == "my_malloc")
        #expect(first.frame.code?.address == 0x100_00B0)
        #expect(first.frame.code?.object == "/usr/sbin/mariadbd")
        #expect(first.children.count == 6)
        // "below threshold" as the second of six siblings, not the last.
        #expect(first.children[1].frame == .belowThreshold(places: 73, thresholdHundredths: 100))
        #expect(first.children[1].bytes == 1_683_968)
        #expect(first.children[2].frame.code?.function == "Query_cache::init_cache()")
    }

    @Test func peakSnapshotIsFound() throws {
        let file = try Fixtures.file("mariadbd-final")
        let peak = try #require(file.peakPosition)
        #expect(file.snapshots[peak].kind == .peak)
        #expect(file.snapshots[peak].totalBytes == 64_506_440)
        #expect(file.snapshots.filter { $0.kind == .peak }.count == 1)
    }

    @Test(
        arguments: [
            ("0x10000B0: my_malloc (in /usr/sbin/mariadbd)", "my_malloc", "in /usr/sbin/mariadbd"),
            ("0x52A7249: (below main) (libc_start_call_main.h:58)", "(below main)", "libc_start_call_main.h:58"),
            (
                "0x849292: process_key_caches(int (*)(char const*, st_key_cache*, void*), void*) (in /usr/sbin/mariadbd)",
                "process_key_caches(int (*)(char const*, st_key_cache*, void*), void*)", "in /usr/sbin/mariadbd"
            ),
            ("0x1: f(int)", "f(int)", nil),
            ("0xAB: ???", "???", nil),
            ("0x401136: main (a.c:12)", "main", "a.c:12"),
        ] as [(String, String, String?)]
    )
    func codeFramesSplitIntoFunctionAndLocation(text: String, function: String, location: String?) throws {
        let frame = try #require(CodeFrame(text: text))
        #expect(frame.function == function)
        #expect(frame.location == location)
        #expect(frame.text == text)
    }

    @Test func sourceLineLocation() throws {
        let frame = try #require(CodeFrame(text: "0x401136: main (/src/dir/a.c:12)"))
        #expect(frame.sourceLine?.file == "/src/dir/a.c")
        #expect(frame.sourceLine?.line == 12)
        #expect(frame.object == nil)
    }

    @Test(arguments: TimeUnit.allCases)
    func everyTimeUnitParses(unit: TimeUnit) throws {
        let text = Self.minimal.replacingOccurrences(of: "time_unit: i", with: "time_unit: \(unit.raw)")
        #expect(try MassifFile.parse(text, fileName: "t").header.timeUnit == unit)
    }

    static let minimal = """
        desc: (none)
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
         n1: 200 0x401136: f (a.c:3)
          n0: 200 0x401150: main (a.c:9)
         n0: 100 in 2 places, all below massif's threshold (1.00%)

        """

    @Test func minimalFileRoundTrips() throws {
        let file = try MassifFile.parse(Self.minimal, fileName: "t")
        #expect(file.serializedText() == Self.minimal)
        #expect(file.header.desc == "(none)")
        #expect(file.snapshots.count == 2)
    }

    /// Each bad input, the line the error must name and a fragment of its message.
    static let badInputs: [(name: String, text: String, line: Int?, message: String)] = [
        ("empty file", "", 1, "expected a \"desc:\" line, got end of file"),
        (
            "binary garbage", "\u{7F}ELF\u{02}\u{01}\u{01}\u{00}\n\u{00}\u{00}\n", 1,
            "got \"\\x7FELF\\x02\\x01\\x01\\x00\""
        ),
        ("no cmd", "desc: x\ntime_unit: i\n", 2, "expected a \"desc:\" or \"cmd:\" line"),
        (
            "unknown time unit", "desc: x\ncmd: y\ntime_unit: s\n", 3,
            "expected a \"time_unit: i|ms|B\" line, got \"time_unit: s\""
        ),
        (
            "no snapshot", "desc: x\ncmd: y\ntime_unit: i\n", 4,
            "expected a snapshot (\"#-----------\"), got end of file"
        ),
        (
            "fields out of order",
            minimal.replacingOccurrences(of: "time=10\nmem_heap_B=300\n", with: "mem_heap_B=300\ntime=10\n"),
            15, "expected a \"time=\" line, got \"mem_heap_B=300\""
        ),
        (
            "non-numeric value", minimal.replacingOccurrences(of: "mem_heap_B=300", with: "mem_heap_B=3O0"),
            16, "expected a number after \"mem_heap_B=\""
        ),
        (
            "leading zero", minimal.replacingOccurrences(of: "time=10", with: "time=010"),
            15, "expected a number after \"time=\""
        ),
        (
            "too few children", minimal.replacingOccurrences(of: "n2: 300", with: "n3: 300"),
            24, "expected child 3 of 3 of the node at line 20, indented by 1 space, got end of file"
        ),
        (
            "too many children", minimal.replacingOccurrences(of: "n2: 300", with: "n1: 300"),
            23, "expected \"#-----------\", got \" n0: 100 in 2 places"
        ),
        (
            "child count desynchronised", minimal.replacingOccurrences(of: " n1: 200", with: " n0: 200"),
            22, "expected child 2 of 2 of the node at line 20, indented by 1 space, got \"  n0: 200"
        ),
        (
            "truncated in a tree", String(minimal.dropLast(50)), 23,
            "expected a line ending in a newline, got end of file"
        ),
        (
            "truncated after a field", String(minimal.components(separatedBy: "mem_heap_extra_B=8")[0]),
            17, "expected a \"mem_heap_extra_B=\" line, got end of file"
        ),
        (
            "bad heap_tree", minimal.replacingOccurrences(of: "heap_tree=empty", with: "heap_tree=full"),
            11, "expected \"empty\", \"detailed\" or \"peak\" after \"heap_tree=\""
        ),
        (
            "node larger than the total",
            minimal.replacingOccurrences(of: "n0: 200 0x401150", with: "n0: 900 0x401150"),
            22, "expected a node of at most the snapshot's total, 308 bytes"
        ),
        (
            "bad top description", minimal.replacingOccurrences(of: "(heap allocation functions)", with: "(heap)"),
            20, "\"(heap allocation functions) ...\", \"(page allocation syscalls) ...\" or an xtree event"
        ),
        (
            "frame without address", minimal.replacingOccurrences(of: "0x401136: f", with: "f"),
            21, "expected a code frame (\"0x<address>: <function>\")"
        ),
        (
            "below threshold with children", minimal.replacingOccurrences(of: " n0: 100 in", with: " n1: 100 in"),
            23, "below massif's threshold (<t>%)"
        ),
        (
            "below threshold wording", minimal.replacingOccurrences(of: "2 places, all", with: "2 place,"),
            23, "below massif's threshold (<t>%)"
        ),
        (
            "comment line", minimal.replacingOccurrences(of: "time=0\n", with: "# note\ntime=0\n"), 7,
            "expected a \"time=\" line, got \"# note\""
        ),
        (
            "blank line", minimal.replacingOccurrences(of: "time=0\n", with: "\ntime=0\n"), 7,
            "expected a \"time=\" line, got \"\""
        ),
        (
            "number overflow", minimal.replacingOccurrences(of: "time=0", with: "time=99999999999999999999"), 7,
            "expected a number"
        ),
        (
            "totals past Int.max",
            minimal.replacingOccurrences(of: "mem_heap_extra_B=8", with: "mem_heap_extra_B=9223372036854775807"),
            19, "expected mem_heap_B + mem_heap_extra_B + mem_stacks_B of at most 9223372036854775807"
        ),
        (
            "bad indentation", minimal.replacingOccurrences(of: "  n0: 200", with: "   n0: 200"), 22,
            "indented by 2 spaces"
        ),
    ]

    @Test(arguments: badInputs.indices)
    func badInputGivesALineNumberedError(index: Int) {
        let bad = Self.badInputs[index]
        do {
            let file = try MassifFile.parse(bad.text, fileName: "bad.massif")
            Issue.record("\(bad.name): parsed \(file.snapshots.count) snapshots instead of failing")
        } catch {
            if let line = bad.line {
                #expect(error.line == line, "\(bad.name): \(error)")
            }
            #expect(error.fileName == "bad.massif")
            #expect(error.description.contains(bad.message), "\(bad.name): \(error)")
            #expect(error.description.hasPrefix("bad.massif:"), "\(bad.name): \(error)")
        }
    }

    @Test func aVeryDeepTreeIsRefusedNotAStackOverflow() {
        var text = Self.minimal.components(separatedBy: "heap_tree=detailed\n")[0] + "heap_tree=detailed\n"
        text += "n1: 300 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n"
        for depth in 1...2000 {
            text += String(repeating: " ", count: depth) + "n1: 300 0x1: f\n"
        }
        #expect(throws: MassifError.self) { try MassifFile.parse(text, fileName: "deep") }
    }
}
