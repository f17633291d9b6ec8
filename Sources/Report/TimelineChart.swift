import Massif
import RunRecord
import TextFormat

/// The heap timeline of a run as inline SVG: every snapshot in the order taken (light `during` ones
/// included), heap, extra and stacks stacked, a shaded and labelled band per step, budgets as dashed lines
/// and a marker with a tooltip per snapshot.
///
/// The x axis is the snapshot order, not the clock: a two-second `sleep` step would otherwise squeeze every
/// SQL step into a sliver, while here each step is as wide as the snapshots it took. Times are in the
/// tooltips and under the band edges. The y axis starts at zero so that heights compare honestly.
struct TimelineChart: Sendable {
    /// One snapshot on the chart.
    struct Point: Sendable, Hashable {
        var id: Int
        var label: String
        var step: String
        var phase: SnapshotPhase
        var light: Bool
        var time: Double
        var heap: Int
        var extra: Int
        var stacks: Int
        var total: Int { heap + extra + stacks }
        /// The step section the marker links to, when the snapshot belongs to a step.
        var stepIndex: Int?
    }

    /// A step's stretch of the chart.
    struct Band: Sendable, Hashable {
        var stepIndex: Int
        var label: String
        /// Positions of its first and last snapshot.
        var first: Int
        var last: Int
        var delta: Int?
        /// The step failed, or broke its budget or the leak check.
        var alarming: Bool
    }

    /// A dashed budget line: across the whole chart (`max_heap`) or within one band (`max_growth`, drawn at
    /// the step's starting total plus the allowed growth).
    struct BudgetLine: Sendable, Hashable {
        var name: String
        /// Where the line is drawn.
        var bytes: Int
        /// The budget itself (for `max_growth`, the growth allowed).
        var limit: Int
        var band: Int?
        var passed: Bool
    }

    var points: [Point]
    /// The snapshot ids of the peak lens's tallest samples, with their step's index: their markers link to
    /// the step's peak tree.
    var peakSamples: [Int: Int] = [:]
    var bands: [Band]
    var budgets: [BudgetLine]
    /// Budgets too far above the data to draw without flattening it, said in words instead.
    var offChart: [BudgetLine] = []

    static let width = 1200.0
    static let height = 380.0
    static let left = 76.0
    static let right = 14.0
    static let top = 44.0
    static let bottom = 40.0
    /// Beyond this many light snapshots their markers are left out (the area still shows them).
    static let lightMarkerLimit = 600

    init(manifest: RunManifest, report: RunReport) {
        let records = manifest.snapshots.sorted { $0.id < $1.id }
        let stepIndex = Dictionary(manifest.steps.map { ($0.label, $0.index) }, uniquingKeysWith: { first, _ in first })
        points = records.map { record in
            Point(
                id: record.id,
                label: record.label,
                step: record.step,
                phase: record.phase,
                light: record.kind != .detailed,
                time: record.time,
                heap: record.heapBytes,
                extra: record.extraBytes,
                stacks: record.stacksBytes,
                stepIndex: record.phase == .final ? nil : stepIndex[record.step]
            )
        }
        for step in report.steps {
            if let id = step.peakSnapshot { peakSamples[id] = step.index }
        }
        var bands: [Band] = []
        var position: [Int: Int] = [:]
        for (offset, point) in points.enumerated() { position[point.id] = offset }
        for step in report.steps {
            let own = records.filter { $0.step == step.label && $0.phase != .final }.compactMap { position[$0.id] }
            guard let first = own.min(), let last = own.max() else { continue }
            let brokeBudget = report.budgets.contains { $0.step == step.label && !$0.passed }
            let leaked = report.leaks.contains { $0.step == step.label && $0.flagged }
            bands.append(
                Band(
                    stepIndex: step.index,
                    label: step.label,
                    first: first,
                    last: last,
                    delta: step.delta,
                    alarming: !step.outcome.isSuccess || brokeBudget || leaked
                )
            )
        }
        self.bands = bands

        let peak = points.map(\.total).max() ?? 0
        var budgets: [BudgetLine] = []
        var offChart: [BudgetLine] = []
        for verdict in report.budgets {
            let line: BudgetLine
            if verdict.budget == "max_heap" {
                line = BudgetLine(
                    name: "max_heap",
                    bytes: Int(clamping: verdict.limit),
                    limit: Int(clamping: verdict.limit),
                    band: nil,
                    passed: verdict.passed
                )
            } else if let label = verdict.step, let bandIndex = bands.firstIndex(where: { $0.label == label }),
                let start = report.steps.first(where: { $0.label == label })?.before
            {
                let (sum, overflow) = start.addingReportingOverflow(Int(clamping: verdict.limit))
                line = BudgetLine(
                    name: "max_growth of \(label)",
                    bytes: overflow ? Int.max : sum,
                    limit: Int(clamping: verdict.limit),
                    band: bandIndex,
                    passed: verdict.passed
                )
            } else {
                continue
            }
            // A budget far above the data would flatten it; it is named above the chart instead.
            if peak > 0 && Double(line.bytes) > Double(peak) * 2 {
                offChart.append(line)
            } else {
                budgets.append(line)
            }
        }
        self.budgets = budgets
        self.offChart = offChart
    }

    /// The chart, or nil for a run without snapshots.
    func svg() -> String? {
        guard !points.isEmpty else { return nil }
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        let slot = plotWidth / Double(points.count)
        let maximum = max(points.map(\.total).max() ?? 1, budgets.map(\.bytes).max() ?? 0, 1)
        let axis = ByteAxis(maximum: Double(maximum))
        func x(_ position: Int) -> Double { Self.left + (Double(position) + 0.5) * slot }
        func y(_ bytes: Double) -> Double { Self.top + plotHeight - bytes / axis.top * plotHeight }
        let n = HTML.number

        var svg = "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(Self.width)) "
        svg += "\(n(Self.height))\" role=\"img\" aria-labelledby=\"timeline-title\">\n"
        svg += "<title id=\"timeline-title\">Heap total (heap, extra, stacks) over \(points.count) snapshots, "
        svg += "with a band per step</title>\n"

        // Bands first, so that everything else is drawn over them.
        for (number, band) in bands.enumerated() {
            let x0 = x(band.first) - slot / 2
            let x1 = x(band.last) + slot / 2
            let shade = band.alarming ? "band-alarm" : (number % 2 == 0 ? "band-a" : "band-b")
            let title = HTML.escape(
                "[\(band.stepIndex)] \(band.label)" + (band.delta.map { ": " + Format.signedBytes($0) } ?? "")
            )
            svg += "<a href=\"#step-\(band.stepIndex)\" class=\"band\" data-step=\"\(band.stepIndex)\">"
            svg += "<rect class=\"\(shade)\" x=\"\(n(x0))\" y=\"\(n(Self.top))\" width=\"\(n(x1 - x0))\" "
            svg += "height=\"\(n(plotHeight))\"><title>\(title)</title></rect>"
            svg += "<line class=\"band-edge\" x1=\"\(n(x0))\" x2=\"\(n(x0))\" y1=\"\(n(Self.top - 30))\" "
            svg += "y2=\"\(n(Self.top + plotHeight))\"/>"
            let room = x1 - x0 - 6
            if let text = Self.fit(band.label, room: room, fallback: String(band.stepIndex)) {
                svg += "<text class=\"band-label\" x=\"\(n(x0 + 3))\" y=\"\(n(Self.top - 18))\">"
                svg += "\(HTML.escape(text))<title>\(title)</title></text>"
            }
            if let delta = band.delta, let text = Self.fit(Format.signedBytes(delta), room: room, fallback: nil) {
                let tone = delta > 0 ? "grew" : (delta < 0 ? "shrank" : "flat")
                svg += "<text class=\"band-delta \(tone)\" x=\"\(n(x0 + 3))\" y=\"\(n(Self.top - 5))\">"
                svg += "\(HTML.escape(text))</text>"
            }
            svg += "</a>\n"
        }

        // Grid and y axis.
        for tick in axis.ticks {
            let ty = y(tick)
            svg += "<line class=\"grid\" x1=\"\(n(Self.left))\" x2=\"\(n(Self.width - Self.right))\" "
            svg += "y1=\"\(n(ty))\" y2=\"\(n(ty))\"/>"
            svg += "<text class=\"axis\" x=\"\(n(Self.left - 6))\" y=\"\(n(ty + 4))\" text-anchor=\"end\">"
            svg += "\(HTML.escape(axis.label(tick)))</text>\n"
        }

        // Stacked areas: heap at the bottom, extra, then stacks. The first and last value reach the plot's
        // edges so that a single snapshot still shows as a level.
        let layers: [(String, (Point) -> Int)] = [
            ("heap", { $0.heap }), ("extra", { $0.heap + $0.extra }), ("stacks", { $0.total }),
        ]
        var lower: [Double] = Array(repeating: 0, count: points.count)
        for (name, upperValue) in layers {
            let upper = points.map { Double(upperValue($0)) }
            if zip(upper, lower).allSatisfy({ $0 <= $1 }) { continue }
            var coordinates: [String] = []
            coordinates.append("\(n(Self.left)),\(n(y(upper[0])))")
            for (position, value) in upper.enumerated() { coordinates.append("\(n(x(position))),\(n(y(value)))") }
            coordinates.append("\(n(Self.width - Self.right)),\(n(y(upper[upper.count - 1])))")
            coordinates.append("\(n(Self.width - Self.right)),\(n(y(lower[lower.count - 1])))")
            for (position, value) in lower.enumerated().reversed() {
                coordinates.append("\(n(x(position))),\(n(y(value)))")
            }
            coordinates.append("\(n(Self.left)),\(n(y(lower[0])))")
            svg += "<polygon class=\"area-\(name)\" points=\"\(coordinates.joined(separator: " "))\"/>\n"
            lower = upper
        }
        var outline = ["\(n(Self.left)),\(n(y(Double(points[0].total))))"]
        for (position, point) in points.enumerated() {
            outline.append("\(n(x(position))),\(n(y(Double(point.total))))")
        }
        outline.append("\(n(Self.width - Self.right)),\(n(y(Double(points[points.count - 1].total))))")
        svg += "<polyline class=\"total-line\" points=\"\(outline.joined(separator: " "))\"/>\n"

        // Budget lines.
        for line in budgets {
            let ly = y(Double(line.bytes))
            var x0 = Self.left
            var x1 = Self.width - Self.right
            if let index = line.band {
                x0 = x(bands[index].first) - slot / 2
                x1 = x(bands[index].last) + slot / 2
            }
            let title = HTML.escape(
                "\(line.name): \(Format.bytes(line.bytes))\(line.passed ? " (kept)" : " (exceeded)")"
            )
            svg += "<g class=\"budget \(line.passed ? "kept" : "broken")\"><line x1=\"\(n(x0))\" x2=\"\(n(x1))\" "
            svg += "y1=\"\(n(ly))\" y2=\"\(n(ly))\"><title>\(title)</title></line>"
            let label = line.band == nil ? "\(line.name) \(Format.bytes(line.bytes))" : "max_growth"
            // A line across the chart is named at its left end, clear of the peak label; a step's at its right.
            if let text = Self.fit(label, room: x1 - x0 - 6, fallback: nil) {
                let (textX, anchor) = line.band == nil ? (x0 + 4, "start") : (x1 - 3, "end")
                svg +=
                    "<text x=\"\(n(textX))\" y=\"\(n(ly - 4))\" text-anchor=\"\(anchor)\">\(HTML.escape(text))</text>"
            }
            svg += "</g>\n"
        }

        // Markers, the peak named.
        let lightCount = points.filter(\.light).count
        let peakPosition = points.indices.max { points[$0].total < points[$1].total } ?? 0
        for (position, point) in points.enumerated() {
            if point.light && lightCount > Self.lightMarkerLimit && position != peakPosition { continue }
            let title = HTML.escape(
                "#\(point.id) \(point.label) at \(Format.seconds(point.time)): "
                    + "total \(Format.bytes(point.total)) (heap \(Format.bytes(point.heap)), "
                    + "extra \(Format.bytes(point.extra)), "
                    + "stacks \(Format.bytes(point.stacks)))" + (point.light ? ", light" : "")
            )
            let circle =
                "<circle class=\"marker \(point.light ? "light" : "detailed")\" cx=\"\(n(x(position)))\" "
                + "cy=\"\(n(y(Double(point.total))))\" r=\"\(point.light ? "2.5" : "3.5")\"><title>\(title)</title></circle>"
            if let index = peakSamples[point.id] {
                svg += "<a href=\"#peak-\(index)\">\(circle)</a>\n"
            } else if let index = point.stepIndex {
                svg += "<a href=\"#step-\(index)\">\(circle)</a>\n"
            } else {
                svg += circle + "\n"
            }
        }
        let peak = points[peakPosition]
        let peakX = x(peakPosition)
        let anchor = peakX > Self.width - 160 ? "end" : (peakX < Self.left + 80 ? "start" : "middle")
        svg += "<text class=\"peak-label\" x=\"\(n(peakX))\" y=\"\(n(max(Self.top + 12, y(Double(peak.total)) - 9)))\" "
        svg += "text-anchor=\"\(anchor)\">peak \(HTML.escape(Format.bytes(peak.total)))</text>\n"

        // Time under the band edges, where there is room.
        let axisY = Self.top + plotHeight
        svg += "<line class=\"axis-line\" x1=\"\(n(Self.left))\" x2=\"\(n(Self.width - Self.right))\" "
        svg += "y1=\"\(n(axisY))\" y2=\"\(n(axisY))\"/>\n"
        var lastLabel = -Double.infinity
        var timeMarks = bands.map { ($0.first, x($0.first) - slot / 2) }
        if bands.isEmpty { timeMarks = [(0, x(0))] }
        for (position, mark) in timeMarks where mark - lastLabel >= 56 {
            svg += "<text class=\"axis\" x=\"\(n(mark + 2))\" y=\"\(n(axisY + 15))\">"
            svg += "\(Format.seconds(points[position].time))</text>"
            lastLabel = mark
        }
        svg += "\n<text class=\"axis caption\" x=\"\(n(Self.left))\" y=\"\(n(Self.height - 6))\">"
        svg += "snapshots in the order taken (\(points.count)); seconds since the run started at each step's start"
        svg += "</text>\n</svg>\n"
        return svg
    }

    /// The text, cut with an ellipsis to fit `room` pixels at the chart's 11 px label size; the fallback (a
    /// step number) when not even four characters fit, nil when that does not fit either.
    static func fit(_ text: String, room: Double, fallback: String?) -> String? {
        let characterWidth = 6.6
        let fits = Int(room / characterWidth)
        if text.count <= fits { return text }
        if fits >= 4 { return String(text.prefix(fits - 1)) + "…" }
        if let fallback, fallback.count <= max(fits, 0) || (fallback.count <= 2 && room >= 8) { return fallback }
        return nil
    }
}
