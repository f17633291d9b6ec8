import TextFormat

/// Renders a massif file snapshot by snapshot, as a streaming parser produces them: each tree is turned into
/// text at once and can then be dropped, so printing a large file needs memory for the text, not for every tree.
/// `finish()` puts the header, chart and table (which need every snapshot's totals) before the trees.
///
/// It takes nested snapshots (`add(_: Snapshot)`) or packed ones (`add(_: PackedSnapshot)`, what
/// `snapctl massif print` feeds it) and prints both the same, byte for byte; a printer takes one kind or the
/// other, and every packed snapshot of the file in order (their frame numbers build on one another).
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
    /// The trees of the printers appended to this one (`append(_:)`), printed after `trees` in this order.
    private var laterTrees: [TextSink] = []
    /// The frames of the packed snapshots added so far, by number, and their renderings.
    private var frames = FrameDisplays()
    /// `nodes under 1.00% summed`, the same for every tree.
    private let thresholdText: String

    public init(header: MassifHeader, options: MassifRenderer.Options = MassifRenderer.Options()) {
        self.header = header
        self.options = options
        self.thresholdText = Format.decimal(options.threshold, digits: 2)
    }

    /// Makes room for `bytes` of trees up front. Growing a buffer of megabytes by doubling copies it and
    /// touches every page of every size on the way; room that is never written costs address space only (a
    /// large allocation is mapped lazily), so a caller may pass a generous bound such as the file's size.
    public mutating func reserveCapacity(_ bytes: Int) {
        trees.reserve(bytes)
    }

    public mutating func add(_ snapshot: Snapshot) {
        let total = snapshot.totalBytes
        rows.append(
            Row(
                index: snapshot.index,
                time: snapshot.time,
                total: total,
                heap: snapshot.heapBytes,
                extra: snapshot.extraBytes,
                stacks: snapshot.stacksBytes,
                kind: snapshot.kind
            )
        )
        guard let tree = snapshot.tree, wantsTree(snapshot.index) else { return }
        treeHeading(index: snapshot.index, kind: snapshot.kind, time: snapshot.time, total: total)
        MassifRenderer.renderTree(tree, total: total, threshold: options.threshold, into: &trees)
    }

    public mutating func add(_ snapshot: PackedSnapshot) {
        frames.append(snapshot.newFrames)
        let total = snapshot.totalBytes
        rows.append(
            Row(
                index: snapshot.index,
                time: snapshot.time,
                total: total,
                heap: snapshot.heapBytes,
                extra: snapshot.extraBytes,
                stacks: snapshot.stacksBytes,
                kind: snapshot.kind
            )
        )
        guard let tree = snapshot.tree, wantsTree(snapshot.index) else { return }
        treeHeading(index: snapshot.index, kind: snapshot.kind, time: snapshot.time, total: total)
        MassifRenderer.renderTree(tree, frames: &frames, total: total, threshold: options.threshold, into: &trees)
    }

    private func wantsTree(_ index: Int) -> Bool {
        guard let only = options.treeSnapshots else { return true }
        return only.contains(index)
    }

    /// `snapshot 12 (detailed) at 1,234 i: 5,678 B total, nodes under 1.00% summed`, after a blank line.
    private mutating func treeHeading(index: Int, kind: Snapshot.Kind, time: Int, total: Int) {
        trees.append("\nsnapshot ")
        trees.decimal(index, width: 0)
        trees.append(" (")
        trees.append(kind.rawValue)
        trees.append(") at ")
        trees.grouped(time, width: 0)
        trees.byte(UInt8(ascii: " "))
        trees.append(header.timeUnit.raw)
        trees.append(": ")
        trees.grouped(total, width: 0)
        trees.append(" B total, nodes under ")
        trees.append(thresholdText)
        trees.append("% summed\n")
    }

    /// Adds everything `other` has printed after what this printer has: the print of a file read in parts is
    /// the printer of the first part with those of the others appended in file order. Snapshots are not
    /// added after an append (the frames of packed snapshots are numbered per part).
    public mutating func append(_ other: MassifPrinter) {
        rows.append(contentsOf: other.rows)
        laterTrees.append(other.trees)
        laterTrees.append(contentsOf: other.laterTrees)
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

    /// The whole text.
    public func finish() -> String {
        var all = summary()
        all.append(trees)
        for later in laterTrees { all.append(later) }
        return all.string
    }

    /// The whole text in two pieces, the summary (header, chart, table) then the trees, passed to `write`
    /// without joining them: a print of a large file is megabytes, and the caller writes them out as they are.
    public func finish(_ write: (UnsafeRawBufferPointer) -> Void) {
        summary().bytes.withUnsafeBytes { write($0) }
        trees.bytes.withUnsafeBytes { write($0) }
        for later in laterTrees { later.bytes.withUnsafeBytes { write($0) } }
    }

    /// Header, chart and table.
    private func summary() -> TextSink {
        var out = TextSink()
        out.reserve(4096 + rows.count * 120)
        out.append("Command:    \(header.cmd)\n")
        out.append("Massif:     \(header.desc)\n")
        out.append("Time unit:  \(MassifRenderer.timeUnitName(header.timeUnit))\n")
        let peak = self.peak
        if let peak {
            let row = rows[peak]
            out.append("Peak:       \(Format.grouped(row.total)) B total (\(Format.bytes(row.total))) ")
            out.append("at snapshot \(row.index), time \(Format.grouped(row.time))\n")
        }
        out.append("\n")
        var chart = ""
        MassifRenderer.chart(rows, timeUnit: header.timeUnit, peak: peak, options: options, into: &chart)
        out.append(chart)
        out.append("\n")
        MassifRenderer.table(rows, timeUnit: header.timeUnit, into: &out)
        return out
    }
}

/// The frame table of packed snapshots (numbers to frames, as the parser numbered them), with each frame's
/// rendering made the first time a tree shows it and copied from then on.
struct FrameDisplays: Sendable {
    private var frames: [Frame] = []
    /// Per frame: 0 for a code frame, else the places of a below-threshold aggregate (never 0).
    private var places: [Int] = []
    /// Per frame: where its rendering starts in `arena` and where it ends; -1 until made.
    private var starts: [Int] = []
    private var ends: [Int] = []
    private var arena: [UInt8] = []

    mutating func append(_ new: [Frame]) {
        for frame in new {
            frames.append(frame)
            if case .belowThreshold(let count, _) = frame { places.append(max(count, 1)) } else { places.append(0) }
            starts.append(-1)
            ends.append(-1)
        }
    }

    /// The places a frame stands for when it is summed into the below-threshold line: its own count for a
    /// below-threshold aggregate, 0 for a code frame (which counts as one place, and only when hidden).
    func places(_ number: Int32) -> Int { places[Int(number)] }

    /// Appends `MassifRenderer.describe` of the frame.
    mutating func write(_ number: Int32, into out: inout TextSink) {
        let index = Int(number)
        if starts[index] < 0 {
            starts[index] = arena.count
            var text = MassifRenderer.describe(frames[index])
            text.withUTF8 { arena.append(contentsOf: $0) }
            ends[index] = arena.count
        }
        let start = starts[index]
        let end = ends[index]
        arena.withUnsafeBufferPointer { stored in
            out.append(UnsafeBufferPointer(rebasing: stored[start..<end]))
        }
    }
}
