import Massif

/// A step's allocation tree, prepared for the page: the after snapshot's tree with allocator wrappers
/// folded, each row with its bytes, its share of the snapshot's total and its change since the before
/// snapshot, pruned to what a reader can take in.
///
/// Rows are chosen heaviest first (by bytes, or by change when that is larger), so the row budget goes to
/// the big and the growing call paths at every depth rather than to the first subtree. What is left out
/// is summed into one "smaller callers" row per parent, so every level still adds up. Chains of single
/// callers with the same bytes (the usual shape of a Massif tree, `m_xtree.c:ms_output_group`) become one
/// row. In a compared tree the rows that changed come first and the paths of the largest changes start
/// open.
struct AllocationTreeView: Sendable, Hashable {
    /// How much of a tree the page shows.
    struct Limits: Sendable, Hashable {
        /// Rows per tree, chains counted once.
        var rows: Int = 120
        /// Rows below this share of the snapshot's total are left out unless they changed a lot.
        var minimumSharePercent: Double = 0.5
        /// A change is a lot when it is at least this share of the largest change at the first level...
        var minimumChangePercent: Double = 2
        /// ...and at least this many bytes.
        var minimumChangeBytes: Int = 1024
        /// Rows deeper than this are left out (summed into their parent's "smaller callers" row).
        var depth: Int = 14
        /// Frames shown per chain row before `…`; every frame is in the row's tooltip.
        var chainFrames: Int = 4

        init() {}
    }

    /// One frame of a row, for display.
    struct FrameText: Sendable, Hashable {
        /// The short name: a long C++ signature without its parameters.
        var name: String
        /// Source file and line, or the object of an unnamed frame.
        var location: String?
        /// The frame as Massif describes it.
        var full: String
    }

    /// Bytes left out under one parent.
    struct Hidden: Sendable, Hashable {
        var count: Int
        var after: Int
        var before: Int?
    }

    struct Row: Sendable, Hashable {
        /// The frame, then its single callers with the same bytes.
        var frames: [FrameText]
        var after: Int
        var before: Int?
        var open: Bool
        var children: [Row]
        var hidden: Hidden?

        var delta: Int? { before.map { after - $0 } }

        /// True when this row, a row below it or its hidden callers changed.
        var changed: Bool {
            (delta ?? 0) != 0 || children.contains(where: \.changed)
                || hidden.map { $0.after != ($0.before ?? $0.after) } ?? false
        }
    }

    /// The total (heap + extra + stacks) of the after snapshot, which shares are of.
    var total: Int
    /// Heap bytes of the tree's root, after and (when compared) before.
    var heapAfter: Int
    var heapBefore: Int?
    var rows: [Row]
    var hidden: Hidden?
    /// Rows shown, and rows that met the thresholds but did not fit the row budget or the depth.
    var shownRows: Int
    var droppedRows: Int
    var limits: Limits

    /// The view of `after`'s tree compared with `before`'s; nil when `after` has no tree.
    ///
    /// A light `before` (or none) gives a tree without changes.
    init?(
        after: Snapshot,
        before: Snapshot?,
        folding: AllocatorFolding = .mariadbDefault,
        limits: Limits = Limits()
    ) {
        guard let afterTree = after.tree?.folded(by: folding) else { return nil }
        let beforeTree = before?.tree?.folded(by: folding)
        self.limits = limits
        total = max(after.totalBytes, 1)
        heapAfter = afterTree.bytes
        heapBefore = beforeTree?.bytes
        let compared = beforeTree != nil

        // What counts as a big change: relative to the largest first-level change.
        let firstLevel = Self.pair(afterTree.children, beforeTree?.children)
        let largestChange = firstLevel.map { abs(($0.after?.bytes ?? 0) - ($0.before?.bytes ?? 0)) }.max() ?? 0
        let changeCut = max(
            limits.minimumChangeBytes,
            Int(Double(largestChange) * limits.minimumChangePercent / 100)
        )
        let shareCut = Double(total) * limits.minimumSharePercent / 100

        // Flat storage while choosing; the nested rows are assembled at the end.
        struct Chosen {
            var row: Row
            var parent: Int?
            var depth: Int
            var children: [Int] = []
            var hiddenCount = 0
            var hiddenAfter = 0
            var hiddenBefore = 0
        }
        struct Candidate {
            var node: Pair
            var parent: Int?
            var depth: Int
            var weight: Int
        }
        var chosen: [Chosen] = []
        var frontier: [Candidate] = []
        var topHidden = Hidden(count: 0, after: 0, before: compared ? 0 : nil)
        var dropped = 0

        func significant(_ pair: Pair) -> Bool {
            let afterBytes = pair.after?.bytes ?? 0
            let change = compared ? abs(afterBytes - (pair.before?.bytes ?? 0)) : 0
            return Double(afterBytes) >= shareCut || change >= changeCut
        }
        func weight(_ pair: Pair) -> Int {
            let afterBytes = pair.after?.bytes ?? 0
            let change = compared ? abs(afterBytes - (pair.before?.bytes ?? 0)) : 0
            // A change counts double: growth is what the page is read for.
            return max(afterBytes, change &* 2)
        }
        func hide(_ pair: Pair, under parent: Int?) {
            if let parent {
                chosen[parent].hiddenCount += 1
                chosen[parent].hiddenAfter += pair.after?.bytes ?? 0
                chosen[parent].hiddenBefore += pair.before?.bytes ?? 0
            } else {
                topHidden.count += 1
                topHidden.after += pair.after?.bytes ?? 0
                if compared { topHidden.before = (topHidden.before ?? 0) + (pair.before?.bytes ?? 0) }
            }
        }
        func offer(_ pairs: [Pair], parent: Int?, depth: Int) {
            for pair in pairs {
                if depth <= limits.depth && significant(pair) {
                    frontier.append(Candidate(node: pair, parent: parent, depth: depth, weight: weight(pair)))
                } else {
                    if depth > limits.depth && significant(pair) { dropped += 1 }
                    hide(pair, under: parent)
                }
            }
        }

        offer(firstLevel, parent: nil, depth: 1)
        while !frontier.isEmpty {
            var best = 0
            for index in frontier.indices.dropFirst() where frontier[index].weight > frontier[best].weight {
                best = index
            }
            let candidate = frontier.remove(at: best)
            if chosen.count >= limits.rows {
                dropped += 1
                hide(candidate.node, under: candidate.parent)
                continue
            }
            // Follow single callers with the same bytes on both sides.
            var pair = candidate.node
            var frames = [Self.frameText(pair.frame)]
            while true {
                let next = Self.pair(pair.after?.children ?? [], pair.before?.children)
                guard next.count == 1, let only = next.first, only.frame.code != nil,
                    only.after?.bytes == pair.after?.bytes, only.before?.bytes == pair.before?.bytes
                else { break }
                frames.append(Self.frameText(only.frame))
                pair = only
            }
            let row = Row(
                frames: frames,
                after: candidate.node.after?.bytes ?? 0,
                before: compared ? (candidate.node.before?.bytes ?? 0) : nil,
                open: false,
                children: [],
                hidden: nil
            )
            let index = chosen.count
            chosen.append(Chosen(row: row, parent: candidate.parent, depth: candidate.depth))
            if let parent = candidate.parent { chosen[parent].children.append(index) }
            offer(
                Self.pair(pair.after?.children ?? [], pair.before?.children),
                parent: index,
                depth: candidate.depth + 1
            )
        }

        // Assemble, children in Massif's order (bytes, largest first), and open the growth path.
        func build(_ index: Int) -> Row {
            var row = chosen[index].row
            row.children = chosen[index].children.map(build).sorted(by: Self.order)
            let hiddenBytes = chosen[index].hiddenAfter + chosen[index].hiddenBefore
            if chosen[index].hiddenCount > 0 && hiddenBytes > 0 {
                row.hidden = Hidden(
                    count: chosen[index].hiddenCount,
                    after: chosen[index].hiddenAfter,
                    before: compared ? chosen[index].hiddenBefore : nil
                )
            }
            return row
        }
        var top = chosen.indices.filter { chosen[$0].parent == nil }.map(build).sorted(by: Self.order)
        if compared { Self.openChanges(&top, cut: changeCut) }
        rows = top
        hidden = topHidden.count > 0 && topHidden.after + (topHidden.before ?? 0) > 0 ? topHidden : nil
        shownRows = chosen.count
        droppedRows = dropped
    }

    /// A node of the after tree beside the same frame in the before tree (either may be missing).
    struct Pair {
        var after: HeapNode?
        var before: HeapNode?
        var frame: Frame { after?.frame ?? before?.frame ?? .belowThreshold(places: 0, thresholdHundredths: 0) }
    }

    /// Siblings of the two trees matched by frame (below-threshold aggregates match each other).
    static func pair(_ after: [HeapNode], _ before: [HeapNode]?) -> [Pair] {
        guard let before else { return after.map { Pair(after: $0, before: nil) } }
        var byKey: [String: HeapNode] = [:]
        for node in before { byKey[key(node.frame)] = node }
        var pairs: [Pair] = []
        var seen: Set<String> = []
        for node in after {
            let key = key(node.frame)
            seen.insert(key)
            pairs.append(Pair(after: node, before: byKey[key]))
        }
        for node in before where !seen.contains(key(node.frame)) { pairs.append(Pair(after: nil, before: node)) }
        return pairs
    }

    static func key(_ frame: Frame) -> String {
        switch frame {
        case .code(let code): return code.text
        case .belowThreshold: return "\u{0}below"
        }
    }

    /// Rows that changed first, largest change first; then the rest as Massif orders them, largest first.
    static func order(_ a: Row, _ b: Row) -> Bool {
        let changeA = abs(a.delta ?? 0)
        let changeB = abs(b.delta ?? 0)
        if (changeA > 0) != (changeB > 0) { return changeA > 0 }
        if changeA != changeB { return changeA > changeB }
        if a.after != b.after { return a.after > b.after }
        return (a.frames.first?.full ?? "") < (b.frames.first?.full ?? "")
    }

    /// Opens the rows that changed most: the three largest changes at the first level, then in each open
    /// row its largest changing caller, down to where the change was allocated.
    static func openChanges(_ rows: inout [Row], cut: Int, level: Int = 1) {
        let changing = rows.indices.filter { abs(rows[$0].delta ?? 0) >= cut && !rows[$0].children.isEmpty }
            .sorted { abs(rows[$0].delta ?? 0) > abs(rows[$1].delta ?? 0) }
        for index in changing.prefix(level == 1 ? 3 : 1) {
            rows[index].open = true
            openChanges(&rows[index].children, cut: cut, level: level + 1)
        }
    }

    static func frameText(_ frame: Frame) -> FrameText {
        switch frame {
        case .belowThreshold:
            return FrameText(name: MassifRenderer.describe(frame), location: nil, full: frame.text)
        case .code(let code):
            if code.isUnknown {
                return FrameText(name: MassifRenderer.describe(frame), location: nil, full: code.text)
            }
            var location: String?
            if let source = code.sourceLine {
                let file = source.file.split(separator: "/").last.map(String.init) ?? source.file
                location = "\(file):\(source.line)"
            }
            return FrameText(name: RunReport.shortName(code.function), location: location, full: code.text)
        }
    }
}
