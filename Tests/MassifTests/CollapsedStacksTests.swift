import TestSupport
import Testing

@testable import Massif

@Suite struct CollapsedStacksTests {
    static let tree = HeapTree(
        bytes: 1000,
        children: [
            HeapNode(
                bytes: 700,
                frame: code("0x10: my_malloc (in /usr/sbin/mariadbd)"),
                children: [
                    HeapNode(bytes: 500, frame: code("0x20: filesort(THD*; x) (in /usr/sbin/mariadbd)")),
                    HeapNode(bytes: 150, frame: code("0x30: ??? (in /usr/sbin/mariadbd)")),
                ]
            ),
            HeapNode(bytes: 200, frame: .belowThreshold(places: 3, thresholdHundredths: 100)),
        ]
    )

    @Test func linesRunOutermostFirstWithSelfBytesThatAddUpToTheRoot() {
        let lines = CollapsedStacks.fold(Self.tree)
        #expect(
            CollapsedStacks.render(lines) == """
                (heap allocation functions) 100
                (heap allocation functions);(below massif's threshold) 200
                (heap allocation functions);??? 0x30;my_malloc 150
                (heap allocation functions);filesort(THD*: x);my_malloc 500
                (heap allocation functions);my_malloc 50

                """
        )
        #expect(lines.reduce(0) { $0 + $1.bytes } == 1000)
    }

    @Test func everyDetailedSnapshotOfRealFilesFoldsToItsHeapExactly() throws {
        var checked = 0
        for name in Fixtures.massifNames + ["mariadbd-pages-as-heap"] {
            let file = try Fixtures.file(name)
            for snapshot in file.snapshots {
                guard let tree = snapshot.tree else { continue }
                let sum = CollapsedStacks.fold(tree).reduce(0) { $0 + $1.bytes }
                #expect(sum == snapshot.heapBytes, "\(name) snapshot \(snapshot.index)")
                checked += 1
            }
        }
        #expect(checked > 10)
    }

    @Test func diffIsSignedGrowthThatAddsUpToTheChangeOfHeap() throws {
        let file = try Fixtures.file("mariadbd-final")
        let detailed = file.snapshots.filter { $0.tree != nil }
        let first = try #require(detailed.first)
        let last = try #require(detailed.last)
        let lines = CollapsedStacks.diff(before: try #require(first.tree), after: try #require(last.tree))
        #expect(lines.reduce(0) { $0 + $1.bytes } == last.heapBytes - first.heapBytes)
        #expect(lines.contains { $0.bytes > 0 })
        #expect(!lines.contains { $0.bytes == 0 })
        #expect(CollapsedStacks.diff(before: Self.tree, after: Self.tree).isEmpty)
    }

    @Test func pagesTreesNameTheirRootAsPageSyscalls() throws {
        let file = try Fixtures.file("mariadbd-pages-as-heap")
        let tree = try #require(file.snapshots.last { $0.tree != nil }?.tree)
        #expect(tree.top == .pageAllocationSyscalls)
        let lines = CollapsedStacks.fold(tree)
        #expect(lines.allSatisfy { $0.frames.first == "(page allocation syscalls)" })
        #expect(lines.contains { $0.frames.contains("my_virtual_mem_commit") })
    }
}
