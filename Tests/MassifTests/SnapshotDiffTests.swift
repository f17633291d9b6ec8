import TestSupport
import Testing

@testable import Massif

@Suite struct SnapshotDiffTests {
    static func snapshot(_ index: Int, _ tree: HeapTree?, extra: Int = 8) -> Snapshot {
        Snapshot(
            index: index,
            time: index * 10,
            heapBytes: tree?.bytes ?? 500,
            extraBytes: extra,
            stacksBytes: 0,
            kind: tree == nil ? .empty : .detailed,
            tree: tree
        )
    }

    @Test(arguments: Fixtures.massifNames)
    func everyFixtureSnapshotDiffedWithItselfIsEmpty(name: String) throws {
        for snapshot in try Fixtures.file(name).snapshots {
            let diff = SnapshotDiff(before: snapshot, after: snapshot)
            #expect(diff.isEmpty)
            #expect(diff.paths.isEmpty && diff.functions.isEmpty)
            #expect(diff.total.delta == 0)
            #expect(diff.isTotalsOnly == (snapshot.tree == nil))
        }
    }

    @Test func growthAppearedAndVanished() {
        let before = HeapTree(
            bytes: 300,
            children: [
                HeapNode(
                    bytes: 200,
                    frame: code("0x10: my_malloc (in m)"),
                    children: [
                        HeapNode(bytes: 200, frame: code("0x20: keep (k.c:1)"))
                    ]
                ),
                HeapNode(bytes: 100, frame: code("0x30: gone (g.c:1)")),
            ]
        )
        let after = HeapTree(
            bytes: 1250,
            children: [
                HeapNode(
                    bytes: 1000,
                    frame: code("0x11: my_malloc (in m)"),
                    children: [
                        HeapNode(bytes: 1000, frame: code("0x40: sort (s.c:1)"))
                    ]
                ),
                HeapNode(bytes: 250, frame: code("0x20: keep (k.c:1)")),
            ]
        )
        let diff = SnapshotDiff(before: Self.snapshot(1, before), after: Self.snapshot(2, after))
        #expect(!diff.isTotalsOnly)
        #expect(diff.heap == SnapshotDiff.Change(before: 300, after: 1250))
        #expect(diff.total.delta == 950)
        #expect(diff.paths.map(\.path) == [["0x40: sort (s.c:1)"], ["0x20: keep (k.c:1)"], ["0x30: gone (g.c:1)"]])
        #expect(diff.paths.map(\.change.delta) == [1000, 50, -100])
        #expect(diff.appeared.map(\.path) == [["0x40: sort (s.c:1)"]])
        #expect(diff.vanished.map(\.path) == [["0x30: gone (g.c:1)"]])
        #expect(diff.functions.map(\.function) == ["sort", "keep", "gone"])
        #expect(diff.functions.map(\.change.status) == [.appeared, .grew, .vanished])

        let unfolded = SnapshotDiff(before: Self.snapshot(1, before), after: Self.snapshot(2, after), folding: .none)
        #expect(unfolded.functions.contains { $0.function == "my_malloc" && $0.change.delta == 800 })

        let big = SnapshotDiff(
            before: Self.snapshot(1, before),
            after: Self.snapshot(2, after),
            threshold: .init(minimumBytes: 60, minimumPercent: 0)
        )
        #expect(big.paths.map(\.change.delta) == [1000, -100])
        let percent = SnapshotDiff(
            before: Self.snapshot(1, before),
            after: Self.snapshot(2, after),
            threshold: .init(minimumBytes: 1, minimumPercent: 10)
        )
        #expect(percent.paths.map(\.change.delta) == [1000])
    }

    @Test func aLightSnapshotGivesTotalsOnly() throws {
        let file = try Fixtures.file("mariadbd-final")
        let light = try #require(file.snapshots.first { $0.tree == nil && $0.heapBytes > 0 })
        let detailed = try #require(file.snapshots.first { $0.tree != nil })
        let diff = SnapshotDiff(before: light, after: detailed)
        #expect(diff.isTotalsOnly)
        #expect(diff.paths.isEmpty)
        #expect(diff.heap.delta == detailed.heapBytes - light.heapBytes)
        #expect(MassifRenderer.render(diff).contains("totals only"))
    }

    @Test func realDiffFindsTheSortBuffer() throws {
        let before = try Fixtures.file("mariadbd-detailed-snapshot").snapshots[0]
        let final = try Fixtures.file("mariadbd-final")
        let after = try #require(final.snapshots.last { $0.tree != nil })
        let diff = SnapshotDiff(before: before, after: after)
        let top = try #require(diff.paths.first)
        #expect(top.change.status == .appeared)
        #expect(top.path.first?.contains("Filesort_buffer::alloc_sort_buffer") == true)
        #expect(diff.functions.contains { $0.function.hasPrefix("filesort(") && $0.change.delta == top.change.delta })
        let text = MassifRenderer.render(diff, top: 5)
        #expect(text.contains("Filesort_buffer::alloc_sort_buffer(unsigned int, unsigned int) <- filesort("))
        #expect(text.contains("[new]"))
    }
}
