/// What changed between two snapshots: totals, and for two detailed snapshots, the bytes per call path and per
/// function, with the sites that appeared and vanished.
///
/// Both trees are folded by the same `AllocatorFolding` first, so that growth shows up at the first real caller.
/// When either side is a light (`heap_tree=empty`) snapshot there is nothing to compare but totals:
/// `isTotalsOnly` is true and `paths` and `functions` are empty.
public struct SnapshotDiff: Sendable, Hashable, Codable {
    /// Before, after and the difference of one figure.
    public struct Change: Sendable, Hashable, Codable {
        public var before: Int
        public var after: Int
        public var delta: Int { HeapArithmetic.saturatingSubtract(after, before) }

        public init(before: Int, after: Int) {
            self.before = before
            self.after = after
        }

        /// `appeared` when there was nothing before, `vanished` when nothing is left, else `grew` or `shrank`.
        public var status: Status {
            if before == 0 { return .appeared }
            if after == 0 { return .vanished }
            return delta >= 0 ? .grew : .shrank
        }

        private enum CodingKeys: String, CodingKey { case before, after, delta, status }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(before, forKey: .before)
            try container.encode(after, forKey: .after)
            try container.encode(delta, forKey: .delta)
            try container.encode(status, forKey: .status)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                before: try container.decode(Int.self, forKey: .before),
                after: try container.decode(Int.self, forKey: .after)
            )
        }
    }

    /// How an entry changed.
    public enum Status: String, Sendable, Hashable, Codable {
        case appeared
        case vanished
        case grew
        case shrank
    }

    /// One call path: frame descriptions from the allocation site (first real caller) outwards.
    public struct PathEntry: Sendable, Hashable, Codable {
        public var path: [String]
        public var change: Change
    }

    /// One function, inclusive bytes (see `HeapTree.functionTotals(folding:)`).
    public struct FunctionEntry: Sendable, Hashable, Codable {
        public var function: String
        public var change: Change
    }

    /// Which entries to keep: an entry is kept when its absolute delta is at least `minimumBytes` and at least
    /// `minimumPercent` percent of the larger of the two snapshots' totals (heap + extra + stacks). Entries
    /// that did not change are never kept.
    public struct Threshold: Sendable, Hashable, Codable {
        public var minimumBytes: Int
        public var minimumPercent: Double

        public init(minimumBytes: Int = 1, minimumPercent: Double = 0) {
            self.minimumBytes = minimumBytes
            self.minimumPercent = minimumPercent
        }

        public static let everything = Threshold()
    }

    public var beforeIndex: Int
    public var afterIndex: Int
    public var heap: Change
    public var extra: Change
    public var stacks: Change
    public var total: Change
    /// True when either side has no tree: only the totals are compared.
    public var isTotalsOnly: Bool
    /// Paths sorted by delta, largest growth first (the ones that shrank last).
    public var paths: [PathEntry]
    /// Functions sorted by delta, largest growth first.
    public var functions: [FunctionEntry]

    /// Paths only in the after snapshot.
    public var appeared: [PathEntry] { paths.filter { $0.change.status == .appeared } }
    /// Paths only in the before snapshot.
    public var vanished: [PathEntry] { paths.filter { $0.change.status == .vanished } }
    /// True when nothing at all changed.
    public var isEmpty: Bool { total.delta == 0 && heap.delta == 0 && paths.isEmpty && functions.isEmpty }

    public init(
        before: Snapshot,
        after: Snapshot,
        folding: AllocatorFolding = .mariadbDefault,
        threshold: Threshold = .everything
    ) {
        beforeIndex = before.index
        afterIndex = after.index
        heap = Change(before: before.heapBytes, after: after.heapBytes)
        extra = Change(before: before.extraBytes, after: after.extraBytes)
        stacks = Change(before: before.stacksBytes, after: after.stacksBytes)
        total = Change(before: before.totalBytes, after: after.totalBytes)
        guard let beforeTree = before.tree?.folded(by: folding), let afterTree = after.tree?.folded(by: folding)
        else {
            isTotalsOnly = true
            paths = []
            functions = []
            return
        }
        isTotalsOnly = false
        let base = Double(max(before.totalBytes, after.totalBytes))
        func keep(_ change: Change) -> Bool {
            let size = change.delta.magnitude
            return size > 0 && size >= threshold.minimumBytes.magnitude
                && Double(size) >= base * threshold.minimumPercent / 100
        }

        var numbers: [String: Int] = [:]
        var texts: [String] = []
        let beforePaths = beforeTree.numberedPathBytes(numbers: &numbers, texts: &texts)
        let afterPaths = afterTree.numberedPathBytes(numbers: &numbers, texts: &texts)
        func named(_ path: [Int]) -> [String] { path.map { texts[$0] } }
        var pathEntries: [PathEntry] = []
        for (path, after) in afterPaths {
            let change = Change(before: beforePaths[path] ?? 0, after: after)
            if keep(change) { pathEntries.append(PathEntry(path: named(path), change: change)) }
        }
        for (path, before) in beforePaths where afterPaths[path] == nil {
            let change = Change(before: before, after: 0)
            if keep(change) { pathEntries.append(PathEntry(path: named(path), change: change)) }
        }
        pathEntries.sort {
            $0.change.delta != $1.change.delta
                ? $0.change.delta > $1.change.delta : $0.path.lexicographicallyPrecedes($1.path)
        }
        paths = pathEntries

        var beforeFunctions: [String: FunctionTotal] = [:]
        for entry in beforeTree.functionTotals(folding: .none) { beforeFunctions[entry.function] = entry }
        var functionEntries: [(entry: FunctionEntry, total: FunctionTotal)] = []
        var seen: Set<String> = []
        for total in afterTree.functionTotals(folding: .none) {
            seen.insert(total.function)
            let change = Change(
                before: beforeFunctions[total.function]?.inclusiveBytes ?? 0,
                after: total.inclusiveBytes
            )
            if keep(change) { functionEntries.append((FunctionEntry(function: total.function, change: change), total)) }
        }
        for (function, total) in beforeFunctions where !seen.contains(function) {
            let change = Change(before: total.inclusiveBytes, after: 0)
            if keep(change) { functionEntries.append((FunctionEntry(function: function, change: change), total)) }
        }
        functionEntries.sort {
            FunctionTotal.precedes($0.entry.change.delta, $0.total, $1.entry.change.delta, $1.total)
        }
        functions = functionEntries.map(\.entry)
    }
}
