import TextFormat

/// Plain-text renderings of massif data for terminals: `snapctl massif print` and `snapctl massif diff`.
///
/// It covers what `ms_print.in` prints (graph, snapshot table, trees with percentages) in less room: a
/// smaller chart, one table for all snapshots, and chains of single callers with the same bytes (the common
/// shape of a Massif tree, `m_xtree.c:ms_output_group`) written on one line joined by `<-`.
public enum MassifRenderer {
    /// Options for `render(_:options:)`.
    public struct Options: Sendable, Hashable {
        /// Tree nodes below this percentage of the snapshot's total are summed into one line
        /// (`ms_print --threshold`, default 1.0).
        public var threshold: Double
        /// Chart size in characters.
        public var chartWidth: Int
        public var chartHeight: Int
        /// Print trees of these snapshot indexes only; nil for every detailed snapshot.
        public var treeSnapshots: Set<Int>?

        public init(
            threshold: Double = 1.0,
            chartWidth: Int = 64,
            chartHeight: Int = 12,
            treeSnapshots: Set<Int>? = nil
        ) {
            self.threshold = threshold
            self.chartWidth = chartWidth
            self.chartHeight = chartHeight
            self.treeSnapshots = treeSnapshots
        }
    }

    /// The whole file: header, chart of totals over time, table of snapshots, detailed trees.
    public static func render(_ file: MassifFile, options: Options = Options()) -> String {
        var printer = MassifPrinter(header: file.header, options: options)
        for snapshot in file.snapshots {
            printer.add(snapshot)
        }
        return printer.finish()
    }

    /// A tree with percentages of `total`, chains of single callers on one line.
    public static func renderTree(_ tree: HeapTree, total: Int, threshold: Double, into out: inout String) {
        var sink = TextSink()
        renderTree(tree, total: total, threshold: threshold, into: &sink)
        out += sink.string
    }

    /// The same into bytes: a large file has hundreds of trees, and appending bytes is several times cheaper
    /// than building a `String` per column.
    static func renderTree(_ tree: HeapTree, total: Int, threshold: Double, into out: inout TextSink) {
        let base = max(total, 1)
        let cutoff = Double(base) * threshold / 100
        out.percentColumn(tree.bytes, of: base)
        out.byte(UInt8(ascii: " "))
        out.grouped(tree.bytes, width: 14)
        out.byte(UInt8(ascii: " "))
        out.append(tree.top.displayName)
        out.byte(0x0A)
        renderChildren(tree.children, indent: 1, base: base, cutoff: cutoff, into: &out)
    }

    /// The same for a packed tree: each frame's text comes from `frames`, made once for the whole file.
    static func renderTree(
        _ tree: PackedTree,
        frames: inout FrameDisplays,
        total: Int,
        threshold: Double,
        into out: inout TextSink
    ) {
        let base = max(total, 1)
        let cutoff = Double(base) * threshold / 100
        tree.nodes.withUnsafeBufferPointer { nodes in
            out.percentColumn(nodes[0].bytes, of: base)
            out.byte(UInt8(ascii: " "))
            out.grouped(nodes[0].bytes, width: 14)
            out.byte(UInt8(ascii: " "))
            out.append(tree.top.displayName)
            out.byte(0x0A)
            renderChildren(of: 0, in: nodes, indent: 1, base: base, cutoff: cutoff, frames: &frames, into: &out)
        }
    }

    /// `renderChildren(_:indent:base:cutoff:into:)` over a packed tree: the children of `parent` are the nodes
    /// from the next one to the end of its subtree, each followed by its own subtree.
    private static func renderChildren(
        of parent: Int,
        in nodes: UnsafeBufferPointer<PackedTree.Node>,
        indent: Int,
        base: Int,
        cutoff: Double,
        frames: inout FrameDisplays,
        into out: inout TextSink
    ) {
        var hiddenBytes = 0
        var hiddenPlaces = 0
        var child = parent + 1
        let end = nodes[parent].end
        while child < end {
            let node = nodes[child]
            let places = frames.places(node.frame)
            if Double(node.bytes) < cutoff || places > 0 {
                hiddenBytes = HeapArithmetic.saturatingAdd(hiddenBytes, node.bytes)
                hiddenPlaces = HeapArithmetic.saturatingAdd(hiddenPlaces, max(places, 1))
                child = node.end
                continue
            }
            out.percentColumn(node.bytes, of: base)
            out.byte(UInt8(ascii: " "))
            out.grouped(node.bytes, width: 14)
            out.byte(UInt8(ascii: " "))
            out.spaces(2 * indent)
            var chain = child
            frames.write(node.frame, into: &out)
            // A single child with the same bytes and a code frame joins the line (the next node is the first
            // child; it is the only one when its subtree ends where its parent's does).
            while chain + 1 < nodes[chain].end, nodes[chain + 1].end == nodes[chain].end,
                nodes[chain + 1].bytes == nodes[chain].bytes, frames.places(nodes[chain + 1].frame) == 0
            {
                chain += 1
                out.append(" <- ")
                frames.write(nodes[chain].frame, into: &out)
            }
            out.byte(0x0A)
            renderChildren(
                of: chain,
                in: nodes,
                indent: indent + 1,
                base: base,
                cutoff: cutoff,
                frames: &frames,
                into: &out
            )
            child = node.end
        }
        if hiddenBytes > 0 || hiddenPlaces > 0 {
            hiddenLine(hiddenBytes, places: hiddenPlaces, indent: indent, base: base, into: &out)
        }
    }

    /// `(<m> places below the threshold)` with the bytes they sum to.
    private static func hiddenLine(_ bytes: Int, places: Int, indent: Int, base: Int, into out: inout TextSink) {
        out.percentColumn(bytes, of: base)
        out.byte(UInt8(ascii: " "))
        out.grouped(bytes, width: 14)
        out.byte(UInt8(ascii: " "))
        out.spaces(2 * indent)
        out.byte(UInt8(ascii: "("))
        out.decimal(places, width: 0)
        out.append(places == 1 ? " place below the threshold)\n" : " places below the threshold)\n")
    }

    private static func renderChildren(
        _ children: [HeapNode],
        indent: Int,
        base: Int,
        cutoff: Double,
        into out: inout TextSink
    ) {
        var hiddenBytes = 0
        var hiddenPlaces = 0
        for child in children {
            if Double(child.bytes) < cutoff || child.frame.code == nil {
                hiddenBytes = HeapArithmetic.saturatingAdd(hiddenBytes, child.bytes)
                if case .belowThreshold(let places, _) = child.frame {
                    hiddenPlaces = HeapArithmetic.saturatingAdd(hiddenPlaces, places)
                } else {
                    hiddenPlaces = HeapArithmetic.saturatingAdd(hiddenPlaces, 1)
                }
                continue
            }
            out.percentColumn(child.bytes, of: base)
            out.byte(UInt8(ascii: " "))
            out.grouped(child.bytes, width: 14)
            out.byte(UInt8(ascii: " "))
            out.spaces(2 * indent)
            var chain = child
            out.append(describe(chain.frame))
            while chain.children.count == 1, chain.children[0].bytes == chain.bytes, chain.children[0].frame.code != nil
            {
                chain = chain.children[0]
                out.append(" <- ")
                out.append(describe(chain.frame))
            }
            out.byte(0x0A)
            renderChildren(chain.children, indent: indent + 1, base: base, cutoff: cutoff, into: &out)
        }
        if hiddenBytes > 0 || hiddenPlaces > 0 {
            hiddenLine(hiddenBytes, places: hiddenPlaces, indent: indent, base: base, into: &out)
        }
    }

    /// A frame for display: function name, and the source line when known, or the object file (base name) for
    /// functions Valgrind could not name.
    public static func describe(_ frame: Frame) -> String {
        switch frame {
        case .belowThreshold(let places, _):
            return "(\(places) \(places == 1 ? "place" : "places") below massif's threshold)"
        case .code(let code):
            // Byte comparisons: `String ==` and `hasPrefix` compare by grapheme unless the strings are known NFC.
            guard let location = code.location else { return code.function }
            if location.utf8.starts(with: "in ".utf8) {
                guard code.function.utf8.elementsEqual("???".utf8) else { return code.function }
                let object = location.utf8.dropFirst(3)
                let name = object.lastIndex(of: UInt8(ascii: "/")).map { object[object.index(after: $0)...] } ?? object
                return "??? 0x\(String(code.address, radix: 16, uppercase: true)) (\(Substring(name)))"
            }
            return "\(code.function) (\(baseName(location)))"
        }
    }

    /// The text after the last `/` (searched in UTF-8: a `Character` scan would cost grapheme breaking).
    private static func baseName(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    // MARK: Chart and table

    static func chart(
        _ rows: [MassifPrinter.Row],
        timeUnit: TimeUnit,
        peak: Int?,
        options: Options,
        into out: inout String
    ) {
        let width = max(8, options.chartWidth)
        let height = max(3, options.chartHeight)
        let maxTotal = rows.map(\.total).max() ?? 0
        let maxTime = max(rows.map(\.time).max() ?? 0, 1)
        var columns = [Int](repeating: -1, count: width)
        var marks = [Character](repeating: " ", count: width)
        for (position, row) in rows.enumerated() {
            let column = min(width - 1, Int(Double(max(0, row.time)) / Double(maxTime) * Double(width - 1)))
            let mark: Character = position == peak ? "#" : (row.kind != .empty ? "@" : ":")
            if row.total >= columns[column] || mark == "#" {
                columns[column] = max(columns[column], row.total)
                if marks[column] != "#" { marks[column] = mark }
            }
        }
        let label = Format.bytes(maxTotal)
        let labelWidth = max(label.count, 4)
        for line in stride(from: height, through: 1, by: -1) {
            let level = Double(maxTotal) * (Double(line) - 0.5) / Double(height)
            out += Format.leftPad(line == height ? label : "", labelWidth)
            out += " |"
            for column in 0..<width {
                let filled = columns[column] > 0 && Double(columns[column]) >= level
                out.append(filled ? marks[column] : " ")
            }
            out += "\n"
        }
        out += Format.leftPad("0", labelWidth) + " +" + String(repeating: "-", count: width) + "> "
        out += "\(Format.grouped(maxTime)) \(timeUnit.raw)\n"
        out += String(repeating: " ", count: labelWidth + 2) + "# peak  @ detailed  : light\n"
    }

    static func table(_ rows: [MassifPrinter.Row], timeUnit: TimeUnit, into out: inout TextSink) {
        out.append("    n          time(\(timeUnit.raw))         total(B)          heap(B)       extra(B)")
        out.append("      stacks(B)  kind\n")
        for row in rows {
            out.decimal(row.index, width: 5)
            out.byte(UInt8(ascii: " "))
            out.grouped(row.time, width: 18)
            out.byte(UInt8(ascii: " "))
            out.grouped(row.total, width: 16)
            out.byte(UInt8(ascii: " "))
            out.grouped(row.heap, width: 16)
            out.byte(UInt8(ascii: " "))
            out.grouped(row.extra, width: 14)
            out.byte(UInt8(ascii: " "))
            out.grouped(row.stacks, width: 14)
            out.append("  ")
            out.append(row.kind.rawValue)
            out.byte(0x0A)
        }
    }

    // MARK: Diff

    /// A diff: totals, then the `top` largest changes by function and by call path, then what appeared and
    /// vanished. A totals-only diff says why.
    public static func render(
        _ diff: SnapshotDiff,
        top: Int = 10,
        beforeName: String = "before",
        afterName: String = "after"
    ) -> String {
        var out = "snapshot \(diff.beforeIndex) of \(beforeName) -> snapshot \(diff.afterIndex) of \(afterName)\n\n"
        out +=
            "          " + Format.leftPad("before", 16) + " " + Format.leftPad("after", 16) + " "
            + Format.leftPad("delta", 16) + "\n"
        for (name, change) in [
            ("heap", diff.heap), ("extra", diff.extra), ("stacks", diff.stacks), ("total", diff.total),
        ] {
            out +=
                Format.pad(name, 8) + "  " + Format.leftPad(Format.grouped(change.before), 16) + " "
                + Format.leftPad(Format.grouped(change.after), 16) + " "
            out += Format.leftPad(Format.signedGrouped(change.delta), 16) + percentChange(change) + "\n"
        }
        if diff.isTotalsOnly {
            out += "\ntotals only: one of the snapshots is light (heap_tree=empty) and has no tree to compare; "
            out += "take detailed snapshots to see call paths\n"
            return out
        }
        if diff.paths.isEmpty && diff.functions.isEmpty {
            out += "\nno change in any call path\n"
            return out
        }
        let limit = max(0, top)
        out += "\nby function (allocator wrappers folded), largest growth first:\n"
        for entry in selection(diff.functions, limit: limit, delta: \.change.delta) {
            out +=
                "  " + Format.leftPad(Format.signedGrouped(entry.change.delta), 14) + "  "
                + Format.leftPad(Format.grouped(entry.change.before), 14) + " -> "
            out += Format.leftPad(Format.grouped(entry.change.after), 14) + "  " + displayFunction(entry.function)
            out += statusSuffix(entry.change.status) + "\n"
        }
        out += "\nby call path (allocation site first), largest growth first:\n"
        for entry in selection(diff.paths, limit: limit, delta: \.change.delta) {
            out +=
                "  " + Format.leftPad(Format.signedGrouped(entry.change.delta), 14) + "  "
                + Format.leftPad(Format.grouped(entry.change.before), 14) + " -> "
            out += Format.leftPad(Format.grouped(entry.change.after), 14) + "  "
            out += entry.path.prefix(6).map(displayPathElement).joined(separator: " <- ")
            if entry.path.count > 6 { out += " <- ..." }
            out += statusSuffix(entry.change.status) + "\n"
        }
        out += "\n\(diff.appeared.count) call paths appeared, \(diff.vanished.count) vanished, "
        out += "\(diff.paths.count) changed in all\n"
        return out
    }

    /// The first `limit` entries (most growth) and, when they did not fit, the last `limit` (most shrinkage).
    private static func selection<T>(_ entries: [T], limit: Int, delta: KeyPath<T, Int>) -> [T] {
        if entries.count <= 2 * limit { return entries }
        let growing = entries.prefix(limit).filter { $0[keyPath: delta] > 0 }
        let shrinking = entries.suffix(limit).filter { $0[keyPath: delta] < 0 }
        return growing + shrinking
    }

    private static func statusSuffix(_ status: SnapshotDiff.Status) -> String {
        switch status {
        case .appeared: return "  [new]"
        case .vanished: return "  [gone]"
        case .grew, .shrank: return ""
        }
    }

    private static func displayFunction(_ key: String) -> String {
        if let code = CodeFrame(text: key) { return describe(.code(code)) }
        return key
    }

    private static func displayPathElement(_ text: String) -> String {
        if let code = CodeFrame(text: text) { return describe(.code(code)) }
        return text
    }

    private static func percentChange(_ change: SnapshotDiff.Change) -> String {
        guard change.before != 0 else { return "" }
        let percent = Double(change.delta) / Double(change.before) * 100
        return " (\(percent >= 0 ? "+" : "")\(Format.decimal(percent, digits: 2))%)"
    }

    static func timeUnitName(_ unit: TimeUnit) -> String {
        switch unit {
        case .instructions: return "i (instructions executed)"
        case .milliseconds: return "ms (milliseconds)"
        case .bytes: return "B (bytes allocated and freed)"
        }
    }
}

extension TopDescription {
    /// The root line's label in `snapctl massif print`.
    var displayName: String {
        switch self {
        case .heapAllocationFunctions: return "(heap allocation functions)"
        case .pageAllocationSyscalls: return "(page allocation syscalls)"
        default: return "(\(rawValue))"
        }
    }
}

/// An output buffer of UTF-8 bytes with the few formatting operations the renderer needs.
struct TextSink {
    private(set) var bytes: [UInt8] = []

    var string: String { String(decoding: bytes, as: UTF8.self) }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ other: TextSink) { bytes.append(contentsOf: other.bytes) }

    mutating func append(_ other: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: other) }

    mutating func reserve(_ capacity: Int) { bytes.reserveCapacity(capacity) }

    /// `String(value)` right-aligned in `width` columns.
    mutating func decimal(_ value: Int, width: Int) {
        digits(value, width: width, grouping: false)
    }

    mutating func spaces(_ count: Int) {
        if count > 0 { bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count)) }
    }

    /// `1,234,567` right-aligned in `width` columns.
    mutating func grouped(_ value: Int, width: Int) {
        digits(value, width: width, grouping: true)
    }

    /// The decimal digits of `value`, with a comma between groups of three when `grouping`, right-aligned.
    private mutating func digits(_ value: Int, width: Int, grouping: Bool) {
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            var magnitude = value.magnitude
            var written = 0
            repeat {
                if grouping && written > 0 && written % 3 == 0 {
                    scratch[31 - count] = UInt8(ascii: ",")
                    count += 1
                }
                scratch[31 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                written += 1
                count += 1
            } while magnitude > 0
            if value < 0 {
                scratch[31 - count] = UInt8(ascii: "-")
                count += 1
            }
            spaces(width - count)
            bytes.append(contentsOf: scratch[(32 - count)...])
        }
    }

    /// `MassifRenderer.percentColumn`: `%.2f%%` right-aligned in 7 columns.
    mutating func percentColumn(_ part: Int, of base: Int) {
        let value = Double(part) / Double(base) * 100
        let hundredths = Int((abs(value) * 100).rounded())
        let negative = value < 0 && hundredths > 0
        let whole = hundredths / 100
        var wholeDigits = 1
        var probe = whole
        while probe >= 10 {
            probe /= 10
            wholeDigits += 1
        }
        let length = (negative ? 1 : 0) + wholeDigits + 4
        spaces(7 - length)
        if negative { bytes.append(UInt8(ascii: "-")) }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: wholeDigits))
        var rest = whole
        var index = start + wholeDigits - 1
        while index >= start {
            bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        }
        let fraction = hundredths % 100
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10))
        bytes.append(UInt8(ascii: "%"))
    }
}
