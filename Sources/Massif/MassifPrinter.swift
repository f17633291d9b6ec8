import TextFormat

/// Renders a massif file snapshot by snapshot, as a streaming parser produces them: each tree is turned into
/// text at once and can then be dropped, so printing a large file needs memory for the text, not for every tree.
/// `finish()` puts the header, chart and table (which need every snapshot's totals) before the trees.
public struct MassifPrinter: Sendable {
    /// The figures of one snapshot, all the chart and the table need.
    struct Row: Sendable {
        var index: Int
        var time: Int
        var total: Int
        var heap: Int
        var extra: Int
        var stacks: Int
        var kind: Snapshot.Kind
    }

    public var header: MassifHeader
    public var options: MassifRenderer.Options
    private(set) var rows: [Row] = []
    private var trees = TextSink()

    public init(header: MassifHeader, options: MassifRenderer.Options = MassifRenderer.Options()) {
        self.header = header
        self.options = options
    }

    public mutating func add(_ snapshot: Snapshot) {
        rows.append(
            Row(
                index: snapshot.index,
                time: snapshot.time,
                total: snapshot.totalBytes,
                heap: snapshot.heapBytes,
                extra: snapshot.extraBytes,
                stacks: snapshot.stacksBytes,
                kind: snapshot.kind
            )
        )
        guard let tree = snapshot.tree else { return }
        if let only = options.treeSnapshots, !only.contains(snapshot.index) { return }
        trees.append(
            "\nsnapshot \(snapshot.index) (\(snapshot.kind.rawValue)) at \(Format.grouped(snapshot.time)) "
                + "\(header.timeUnit.raw): \(Format.grouped(snapshot.totalBytes)) B total, "
                + "nodes under \(Format.decimal(options.threshold, digits: 2))% summed\n"
        )
        MassifRenderer.renderTree(tree, total: snapshot.totalBytes, threshold: options.threshold, into: &trees)
    }

    /// The peak row: the last `peak` snapshot (as `ms_print.in`), else the largest total.
    private var peak: Int? {
        if let recorded = rows.lastIndex(where: { $0.kind == .peak }) { return recorded }
        var best: Int?
        for (position, row) in rows.enumerated() where best.map({ row.total > rows[$0].total }) ?? true {
            best = position
        }
        return best
    }

    public func finish() -> String {
        var out = ""
        out.reserveCapacity(trees.bytes.count + 4096 + rows.count * 120)
        out += "Command:    \(header.cmd)\n"
        out += "Massif:     \(header.desc)\n"
        out += "Time unit:  \(MassifRenderer.timeUnitName(header.timeUnit))\n"
        let peak = self.peak
        if let peak {
            let row = rows[peak]
            out +=
                "Peak:       \(Format.grouped(row.total)) B total (\(Format.bytes(row.total))) "
            out += "at snapshot \(row.index), time \(Format.grouped(row.time))\n"
        }
        out += "\n"
        MassifRenderer.chart(rows, timeUnit: header.timeUnit, peak: peak, options: options, into: &out)
        out += "\n"
        MassifRenderer.table(rows, timeUnit: header.timeUnit, into: &out)
        out += trees.string
        return out
    }
}
