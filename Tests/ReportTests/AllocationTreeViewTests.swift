import Massif
import Testing

@testable import Report

/// The allocation tree of the page: what is shown, in which order, what starts open, and that what is
/// left out still adds up.
@Suite struct AllocationTreeViewTests {
    typealias Node = HTMLFixtures.Node

    static let base = [
        Node(
            8_000_000,
            "my_malloc",
            [
                Node(5_000_000, "init_pagecache", [Node(5_000_000, "main")]),
                Node(
                    3_000_000,
                    "ha_heap::write_row",
                    [
                        Node(
                            3_000_000,
                            "handler::ha_write_row",
                            [Node(2_000_000, "select_insert::send_data"), Node(1_000_000, "write_record")]
                        )
                    ]
                ),
            ]
        ),
        Node(1_000_000, "Query_cache::init_cache()"),
    ]

    /// `base` with the heap table's rows grown by `growth`.
    static func grown(_ growth: Int) -> [Node] {
        [
            Node(
                8_000_000 + growth,
                "my_malloc",
                [
                    Node(5_000_000, "init_pagecache", [Node(5_000_000, "main")]),
                    Node(
                        3_000_000 + growth,
                        "ha_heap::write_row",
                        [
                            Node(
                                3_000_000 + growth,
                                "handler::ha_write_row",
                                [
                                    Node(2_000_000 + growth, "select_insert::send_data"),
                                    Node(1_000_000, "write_record"),
                                ]
                            )
                        ]
                    ),
                ]
            ),
            Node(1_000_000, "Query_cache::init_cache()"),
        ]
    }

    @Test func growthComesFirstAndStartsOpenWrappersFolded() throws {
        let view = try #require(
            AllocationTreeView(
                after: try HTMLFixtures.snapshot(Self.grown(4_000_000)),
                before: try HTMLFixtures.snapshot(Self.base)
            )
        )
        #expect(view.heapBefore == 9_000_000)
        #expect(view.heapAfter == 13_000_000)
        // my_malloc is folded away: its callers are the first level, the one that grew first.
        #expect(
            view.rows.map { $0.frames[0].name } == [
                "ha_heap::write_row", "init_pagecache", "Query_cache::init_cache()",
            ]
        )
        let grew = view.rows[0]
        #expect(grew.delta == 4_000_000)
        #expect(grew.open)
        // A single caller with the same bytes is the same row.
        #expect(grew.frames.map(\.name) == ["ha_heap::write_row", "handler::ha_write_row"])
        #expect(grew.children.map { $0.frames[0].name } == ["select_insert::send_data", "write_record"])
        #expect(grew.children[0].delta == 4_000_000)
        #expect(grew.children[1].delta == 0)
        #expect(!view.rows[1].open)
        #expect(view.rows[1].frames.map(\.name) == ["init_pagecache", "main"])
        #expect(!view.rows[1].changed)
        #expect(view.rows[0].changed)

        let html = view.html()
        #expect(html.contains("<div class=\"tree\" data-compared>"))
        #expect(html.contains("<details open><summary class=\"row\">"))
        #expect(html.contains("<b>ha_heap::write_row</b> <span class=\"by\">←</span> handler::ha_write_row"))
        #expect(html.contains("<span class=\"change num grew\">+3.8 MiB</span>"))
        // Rows whose whole subtree did not change can be hidden by the page's script.
        #expect(html.contains("<div class=\"row same\">"))
    }

    @Test func aVanishedSiteShowsAsShrinking() throws {
        let view = try #require(
            AllocationTreeView(
                after: try HTMLFixtures.snapshot([Node(1_000_000, "Query_cache::init_cache()")]),
                before: try HTMLFixtures.snapshot(Self.base)
            )
        )
        let gone = try #require(view.rows.first { $0.frames[0].name == "init_pagecache" })
        #expect(gone.after == 0)
        #expect(gone.delta == -5_000_000)
        // Changes come first, largest first, whichever way they went.
        #expect(
            view.rows.map { $0.frames[0].name } == [
                "init_pagecache", "ha_heap::write_row", "Query_cache::init_cache()",
            ]
        )
        #expect(view.rows[0].open == false)  // no callers to open onto once chained
    }

    @Test func withoutABeforeThereIsNoChange() throws {
        let view = try #require(AllocationTreeView(after: try HTMLFixtures.snapshot(Self.base), before: nil))
        #expect(view.heapBefore == nil)
        #expect(view.rows.allSatisfy { $0.before == nil && !$0.open })
        let html = view.html()
        #expect(html.contains("<div class=\"tree\">"))
        #expect(!html.contains("data-compared"))
        #expect(!html.contains(" same"))
    }

    @Test func aLightSnapshotHasNoTree() throws {
        #expect(AllocationTreeView(after: try HTMLFixtures.snapshot(Self.base, light: true), before: nil) == nil)
        // A light before gives a tree without changes.
        let view = try #require(
            AllocationTreeView(
                after: try HTMLFixtures.snapshot(Self.base),
                before: try HTMLFixtures.snapshot(Self.base, light: true)
            )
        )
        #expect(view.heapBefore == nil)
    }

    @Test func theRowLimitKeepsTheHeaviestAndEverythingAddsUp() throws {
        // 300 sites, each with two callers: far more than the limit.
        var nodes: [Node] = []
        for index in 0..<300 {
            let bytes = 100_000 + index * 1000
            nodes.append(
                Node(bytes, "site\(index)", [Node(bytes / 2, "a\(index)"), Node(bytes - bytes / 2, "b\(index)")])
            )
        }
        var limits = AllocationTreeView.Limits()
        limits.rows = 40
        limits.minimumSharePercent = 0
        let after = try HTMLFixtures.snapshot(nodes)
        let view = try #require(AllocationTreeView(after: after, before: nil, limits: limits))
        #expect(view.shownRows == 40)
        #expect(view.droppedRows > 0)
        // The heaviest sites are the ones shown.
        #expect(view.rows.first?.frames[0].name == "site299")
        #expect(view.rows.count == 40)
        // Shown and hidden rows add up to the heap at the top level and under every row.
        let hidden = try #require(view.hidden)
        #expect(view.rows.reduce(0) { $0 + $1.after } + hidden.after == view.heapAfter)
        #expect(hidden.count == 260)
        let html = view.html()
        #expect(html.contains("260 smaller callers or sites"))
        #expect(html.contains("past the limit of 40 rows"))
    }

    @Test func theDepthLimitSumsDeeperCallers() throws {
        var chainEnd = Node(1000, "leaf")
        for level in (0..<30).reversed() {
            chainEnd = Node(chainEnd.bytes + 1000, "f\(level)", [chainEnd, Node(1000, "g\(level)")])
        }
        var limits = AllocationTreeView.Limits()
        limits.depth = 5
        limits.minimumSharePercent = 0
        let view = try #require(
            AllocationTreeView(after: try HTMLFixtures.snapshot([chainEnd]), before: nil, limits: limits)
        )
        func depth(_ rows: [AllocationTreeView.Row]) -> Int { 1 + (rows.map { depth($0.children) }.max() ?? -1) }
        #expect(depth(view.rows) == 5)
        #expect(view.droppedRows > 0)
    }

    @Test func smallRowsAreSummedUnlessTheyChanged() throws {
        // 0.1% of the total: below the 0.5% share, but the only change.
        let before = [Node(10_000_000, "init_pagecache"), Node(5_000, "tiny_but_stable")]
        let after = [Node(10_000_000, "init_pagecache"), Node(5_000, "tiny_but_stable"), Node(10_000, "tiny_new")]
        let view = try #require(
            AllocationTreeView(after: try HTMLFixtures.snapshot(after), before: try HTMLFixtures.snapshot(before))
        )
        #expect(view.rows.map { $0.frames[0].name } == ["tiny_new", "init_pagecache"])
        #expect(view.hidden?.count == 1)
        #expect(view.hidden?.after == 5_000)
    }
}
