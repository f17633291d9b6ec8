import TestSupport
import Testing

@testable import Massif

@Suite struct HeapTreeOperationsTests {
    /// malloc <- my_malloc <- {a <- main, b <- main}, malloc <- alloc_root <- my_malloc <- a <- main, malloc <- c.
    static let tree = HeapTree(
        bytes: 1000,
        children: [
            HeapNode(
                bytes: 600,
                frame: code("0x10: my_malloc (in /usr/sbin/mariadbd)"),
                children: [
                    HeapNode(
                        bytes: 400,
                        frame: code("0x20: a() (in /usr/sbin/mariadbd)"),
                        children: [
                            HeapNode(bytes: 400, frame: code("0x90: main (m.c:1)"))
                        ]
                    ),
                    HeapNode(bytes: 150, frame: code("0x30: b (in /usr/sbin/mariadbd)")),
                    HeapNode(bytes: 30, frame: .belowThreshold(places: 3, thresholdHundredths: 100)),
                ]
            ),
            HeapNode(
                bytes: 300,
                frame: code("0x40: alloc_root (in /usr/sbin/mariadbd)"),
                children: [
                    HeapNode(
                        bytes: 300,
                        frame: code("0x11: my_malloc (in /usr/sbin/mariadbd)"),
                        children: [
                            HeapNode(
                                bytes: 300,
                                frame: code("0x20: a() (in /usr/sbin/mariadbd)"),
                                children: [
                                    HeapNode(bytes: 300, frame: code("0x90: main (m.c:1)"))
                                ]
                            )
                        ]
                    )
                ]
            ),
            HeapNode(bytes: 50, frame: code("0x50: c (c.c:7)")),
            HeapNode(bytes: 10, frame: .belowThreshold(places: 1, thresholdHundredths: 100)),
        ]
    )

    @Test func inclusiveAndExclusiveBytes() {
        let myMalloc = Self.tree.children[0]
        #expect(myMalloc.bytes == 600)
        #expect(myMalloc.exclusiveBytes == 20)
        #expect(Self.tree.exclusiveBytes == 40)
        #expect(myMalloc.children[1].exclusiveBytes == 150)
        #expect(Self.tree.nodeCount == 11)
    }

    @Test func foldingAttributesBytesToTheFirstRealCaller() throws {
        let folded = Self.tree.folded(by: .mariadbDefault)
        #expect(folded.bytes == 1000)
        let functions = folded.children.map { $0.frame.code?.function ?? "below" }
        #expect(functions == ["a()", "b", "c", "below", "my_malloc"])
        // a() from under my_malloc (400) and from under alloc_root -> my_malloc (300) is one node.
        #expect(folded.children[0].bytes == 700)
        #expect(folded.children[0].children.count == 1)
        #expect(folded.children[0].children[0].bytes == 700)
        // The two below-threshold aggregates (30 + 10 bytes, 3 + 1 places) merged.
        #expect(folded.children[3].frame == .belowThreshold(places: 4, thresholdHundredths: 100))
        #expect(folded.children[3].bytes == 40)
        // my_malloc's own 20 bytes have no caller to go to.
        #expect(folded.children[4].bytes == 20)
        #expect(folded.children.reduce(0) { $0 + $1.bytes } == 960)
    }

    @Test func foldingByNothingKeepsTheTree() {
        #expect(Self.tree.folded(by: .none) == Self.tree)
    }

    @Test func userAddedWrappersAreFolded() {
        let folding = AllocatorFolding.mariadbDefault.adding(["a"])
        let folded = Self.tree.folded(by: folding)
        #expect(folded.children[0].frame.code?.function == "main")
        #expect(folded.children[0].bytes == 700)
    }

    @Test(arguments: [
        ("ut_allocator<unsigned char, true>::allocate(unsigned long, void const*, unsigned int, bool, bool)", true),
        ("mem_heap_create_block_func(mem_block_info_t*, unsigned long, unsigned long)", true),
        ("Query_arena::alloc(unsigned long)", true),
        ("my_malloc", true),
        ("my_mallocx", false),
        ("filesort(THD*, TABLE*, Filesort*, Filesort_tracker*, JOIN*, unsigned long long)", false),
        ("???", false),
    ])
    func defaultWrapperNames(function: String, isWrapper: Bool) throws {
        let frame = try #require(CodeFrame(text: "0x1: \(function) (in /usr/sbin/mariadbd)"))
        #expect(AllocatorFolding.mariadbDefault.isWrapper(frame) == isWrapper)
    }

    @Test func functionTotalsMergeAddressesAndCountRecursionOnce() {
        let totals = Self.tree.functionTotals()
        let byName = Dictionary(uniqueKeysWithValues: totals.map { ($0.function, $0) })
        #expect(byName["a()"]?.inclusiveBytes == 700)
        #expect(byName["a()"]?.directBytes == 700)
        #expect(byName["main"]?.inclusiveBytes == 700)
        #expect(byName["main"]?.directBytes == 0)
        #expect(byName["c"]?.inclusiveBytes == 50)
        #expect(totals.first?.function == "a()" || totals.first?.function == "main")
        let recursive = HeapTree(
            bytes: 100,
            children: [
                HeapNode(
                    bytes: 100,
                    frame: code("0x1: f (f.c:1)"),
                    children: [
                        HeapNode(bytes: 100, frame: code("0x2: f (f.c:2)"))
                    ]
                )
            ]
        )
        #expect(
            recursive.functionTotals(folding: .none) == [
                FunctionTotal(function: "f", inclusiveBytes: 100, directBytes: 100)
            ]
        )
    }

    @Test("on a tie, the named function nearest the allocation leads; ??? frames and main follow")
    func functionTiesFavourNamedCodeNearTheAllocation() {
        // main -> zeta_caller -> alloc_here -> ??? -> (malloc'd 100 bytes): every frame carries 100 bytes.
        let chain = HeapTree(
            bytes: 100,
            children: [
                HeapNode(
                    bytes: 100,
                    frame: code("0x9: ??? (in /usr/sbin/mariadbd)"),
                    children: [
                        HeapNode(
                            bytes: 100,
                            frame: code("0x3: alloc_here (a.c:3)"),
                            children: [
                                HeapNode(
                                    bytes: 100,
                                    frame: code("0x2: zeta_caller (z.c:2)"),
                                    children: [HeapNode(bytes: 100, frame: code("0x1: main (m.c:1)"))]
                                )
                            ]
                        )
                    ]
                )
            ]
        )
        let totals = chain.functionTotals(folding: .none)
        #expect(totals.map(\.function) == ["alloc_here", "zeta_caller", "main", "0x9: ??? (in /usr/sbin/mariadbd)"])
        #expect(totals.map(\.nearestDepth) == [2, 3, 4, 1])
        let diff = SnapshotDiff(
            before: SnapshotDiffTests.snapshot(0, HeapTree(bytes: 0, children: [])),
            after: SnapshotDiffTests.snapshot(1, chain),
            folding: .none
        )
        #expect(diff.functions.first?.function == "alloc_here")
        #expect(diff.functions.last?.function.contains("???") == true)
    }

    @Test func topSitesAreTheLargestFirstRealCallers() {
        let sites = Self.tree.topSites(2)
        #expect(sites.map(\.bytes) == [700, 150])
        #expect(sites.map { $0.frame.code?.function } == ["a()", "b"])
    }

    @Test func realTreeFoldsMyMallocAway() throws {
        let tree = try #require(try Fixtures.file("mariadbd-detailed-snapshot").snapshots[0].tree)
        let folded = tree.folded(by: .mariadbDefault)
        let wrappers = folded.children.compactMap(\.frame.code).filter { AllocatorFolding.mariadbDefault.isWrapper($0) }
        #expect(wrappers.allSatisfy { $0.function != "my_malloc" } || folded.children.contains { $0.children.isEmpty })
        #expect(folded.bytes == tree.bytes)
        // Folding moves bytes around but loses none.
        #expect(folded.children.reduce(0) { $0 + $1.bytes } + folded.exclusiveBytes == tree.bytes)
        #expect(
            !folded.children.contains { $0.frame.code?.function == "my_multi_malloc_large" && !$0.children.isEmpty }
        )
    }

    @Test("numbered paths are the text paths; folding is idempotent and leaves a tree without wrappers as it was")
    func numberedPathsAndFoldingOnRealTrees() throws {
        for name in Fixtures.massifNames {
            for snapshot in try Fixtures.file(name).snapshots {
                guard let tree = snapshot.tree else { continue }
                var numbers: [String: Int] = [:]
                var texts: [String] = []
                let numbered = tree.numberedPathBytes(numbers: &numbers, texts: &texts)
                var named: [[String]: Int] = [:]
                for (path, bytes) in numbered { named[path.map { texts[$0] }] = bytes }
                // Walked here independently: each node's exclusive bytes under its path of frame texts.
                var expected: [[String]: Int] = [:]
                func walk(_ node: HeapNode, _ above: [String]) {
                    let path = above + [node.frame.code?.text ?? HeapTree.belowThresholdKey]
                    if node.exclusiveBytes > 0 { expected[path, default: 0] += node.exclusiveBytes }
                    for child in node.children { walk(child, path) }
                }
                for child in tree.children { walk(child, []) }
                #expect(named == expected, "\(name) snapshot \(snapshot.index)")
                #expect(tree.pathBytes() == expected)
                #expect(Set(texts).count == texts.count)
                let folded = tree.folded(by: .mariadbDefault)
                #expect(folded.folded(by: .mariadbDefault) == folded, "\(name) snapshot \(snapshot.index)")
                #expect(tree.folded(by: AllocatorFolding(functions: ["no_such_function"])) == tree)
            }
        }
    }
}
