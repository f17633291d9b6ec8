import Massif
import RunRecord
import Testing

@testable import Report

/// The timeline's axis and its budget lines.
@Suite struct TimelineChartTests {
    /// Maximum in bytes, the unit, the tick labels.
    static let axes: [(Double, String, [String])] = [
        (50.9 * 1_048_576, "MiB", ["0", "10 MiB", "20 MiB", "30 MiB", "40 MiB", "50 MiB", "60 MiB"]),
        (700, "B", ["0", "200 B", "400 B", "600 B", "800 B"]),
        (3.2 * 1_073_741_824, "GiB", ["0", "1 GiB", "2 GiB", "3 GiB", "4 GiB"]),
        (1, "B", ["0", "1 B"]),
        (2.2 * 1024, "KiB", ["0", "0.5 KiB", "1 KiB", "1.5 KiB", "2 KiB", "2.5 KiB"]),
    ]

    @Test(arguments: axes)
    func axisTicksAreRoundInOneUnit(maximum: Double, unit: String, labels: [String]) {
        let axis = ByteAxis(maximum: maximum)
        #expect(axis.unitName == unit)
        #expect(axis.ticks.map(axis.label) == labels)
        #expect(axis.top >= maximum)
        #expect(axis.ticks.first == 0)
    }

    static func manifest(maxHeap: Int64?) -> RunManifest {
        var manifest = RunReportTests.manifest(
            steps: [
                RunReportTests.step(1, "first"), RunReportTests.step(2, "second-with-a-long-label-that-will-not-fit"),
            ],
            budgets: .init(maxHeap: maxHeap)
        )
        manifest.snapshots = [
            HTMLFixtures.record(1, step: "first", phase: .before, heap: 1_000_000),
            HTMLFixtures.record(2, step: "first", phase: .after, heap: 2_000_000),
            HTMLFixtures.record(3, step: "second-with-a-long-label-that-will-not-fit", phase: .before, heap: 2_000_000),
            HTMLFixtures.record(4, step: "second-with-a-long-label-that-will-not-fit", phase: .after, heap: 1_500_000),
        ]
        return manifest
    }

    @Test func aBudgetNearTheDataIsDrawnAndOneFarAboveIsNamed() throws {
        let near = Self.manifest(maxHeap: 3_000_000)
        let nearChart = TimelineChart(manifest: near, report: RunReport.make(manifest: near, snapshots: [:]))
        #expect(nearChart.budgets.map(\.name) == ["max_heap"])
        #expect(nearChart.offChart.isEmpty)
        let svg = try #require(nearChart.svg())
        #expect(svg.contains("<g class=\"budget kept\">"))

        let far = Self.manifest(maxHeap: 1 << 30)
        let farChart = TimelineChart(manifest: far, report: RunReport.make(manifest: far, snapshots: [:]))
        #expect(farChart.budgets.isEmpty)
        #expect(farChart.offChart.map(\.name) == ["max_heap"])
        #expect(try #require(farChart.svg()).contains("class=\"budget") == false)
        let html = RunReport.make(manifest: far, snapshots: [:]).html(manifest: far)
        #expect(html.contains("Not drawn, to keep the data readable: max_heap 1.0 GiB"))
    }

    @Test func bandsCoverTheirSnapshotsAndLabelsFitOrAreCut() throws {
        let manifest = Self.manifest(maxHeap: nil)
        let chart = TimelineChart(manifest: manifest, report: RunReport.make(manifest: manifest, snapshots: [:]))
        #expect(chart.bands.map(\.first) == [0, 2])
        #expect(chart.bands.map(\.last) == [1, 3])
        #expect(chart.bands.map(\.delta) == [1_000_000, -500_000])
        let svg = try #require(chart.svg())
        // Two bands of about 555 px each: the short label whole, the long one whole as well.
        #expect(svg.contains(">first<title>"))
        #expect(svg.contains("+976.6 KiB"))
        #expect(svg.contains("-488.3 KiB"))
        // Cut with an ellipsis where the room is short, a step number where there is hardly any.
        #expect(TimelineChart.fit("a-long-step-label", room: 60, fallback: "7") == "a-long-s…")
        #expect(TimelineChart.fit("a-long-step-label", room: 14, fallback: "7") == "7")
        #expect(TimelineChart.fit("a-long-step-label", room: 4, fallback: "7") == nil)
        #expect(TimelineChart.fit("ok", room: 14, fallback: "7") == "ok")
    }
}
