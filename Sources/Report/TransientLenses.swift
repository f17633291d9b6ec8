import Massif
import TextFormat

/// A call path of a transient-memory lens: the first real caller (allocator wrappers folded), its callers,
/// and the lens's figure for it. The same shape as ``Site``; which figure is set depends on the lens
/// (`bytes_B` for allocated and peak, `calls` for churn, both where both are known).
public struct LensSite: Sendable, Hashable, Codable {
    /// The first named frame from the allocation site outwards, for display.
    public var function: String
    /// Display names from the allocation site outwards.
    public var path: [String]
    /// Bytes: allocated during the step (allocated lens), or grown over the before snapshot at the step's
    /// tallest sampled moment (peak lens).
    public var bytes: Int?
    /// Allocation calls during the step (churn lens, and the allocated lens's paths).
    public var calls: Int?
    /// The server variables that size the code on this path (`ServerVariableMap`), when a rule matches.
    public var variables: [String]?

    public init(function: String, path: [String], bytes: Int? = nil, calls: Int? = nil, variables: [String]? = nil) {
        self.function = function
        self.path = path
        self.bytes = bytes
        self.calls = calls
        self.variables = variables
    }

    enum CodingKeys: String, CodingKey {
        case function, path, calls, variables
        case bytes = "bytes_B"
    }
}

/// Memory of a lens that sits under code a server variable sizes, with the variable's value and the worst
/// case when every connection does the same: "peak +33.6 MiB in filesort (sort_buffer_size = 32 MiB); at
/// max_connections = 151 this statement could hold 4.9 GiB".
public struct SizingFinding: Sendable, Hashable, Codable {
    /// `peak` or `allocated`.
    public var lens: String
    /// The frame the rule matched (`filesort`).
    public var function: String
    /// The variables of the rule, first the one named in the sentence.
    public var variables: [String]
    /// Bytes of the lens under that code.
    public var bytes: Int
    /// The first variable's value (session value on the step's connection, or global), when it was read.
    public var value: Int64?
    /// `max_connections`, when it was read.
    public var maxConnections: Int64?
    /// `bytes` times `max_connections`.
    public var worstCase: Int64?
    /// What the rule says the memory is.
    public var note: String

    enum CodingKeys: String, CodingKey {
        case lens, function, variables, value, note
        case bytes = "bytes_B"
        case maxConnections = "max_connections"
        case worstCase = "worst_case_B"
    }

    /// The finding as one sentence for people.
    public var sentence: String {
        let amount =
            lens == "peak"
            ? "peak +\(Format.bytes(bytes))" : "allocated \(Format.bytes(bytes))"
        var text = "\(amount) in \(function)"
        if let variable = variables.first {
            text += " (\(variable)"
            if let value { text += " = \(Format.bytes(Int(clamping: value)))" }
            text += ")"
        }
        if let maxConnections, let worstCase {
            let verb = lens == "peak" ? "hold" : "allocate"
            text += "; at max_connections = \(maxConnections) this statement could \(verb) "
            text += Format.bytes(Int(clamping: worstCase))
        }
        return text
    }
}

/// The transient-memory lenses of a step, computed from trees alone (pure).
///
/// * allocated: `totB` of the xtree dump after the step minus before, per call path: every byte the step
///   allocated, freed or not;
/// * churn: the same for `totBk`, allocation calls per call path;
/// * peak: the detailed snapshot at the tallest sampled moment minus the step's before snapshot.
///
/// Allocator wrappers are folded everywhere, so each path starts at the first real caller.
public enum TransientLenses {
    /// The allocated and churn lenses of two dumps.
    public struct Allocations: Sendable, Hashable {
        /// Bytes allocated between the dumps.
        public var bytes: Int
        /// Allocation calls between the dumps.
        public var calls: Int
        /// Paths by bytes allocated, largest first.
        public var allocated: [LensSite]
        /// Paths by allocation calls, most first.
        public var churn: [LensSite]
        /// Bytes per sizing rule, over every path (not only the listed ones), largest first.
        public var sizing: [(rule: ServerVariableMap.Rule, function: String, bytes: Int)]

        public static func == (lhs: Allocations, rhs: Allocations) -> Bool {
            lhs.bytes == rhs.bytes && lhs.calls == rhs.calls && lhs.allocated == rhs.allocated
                && lhs.churn == rhs.churn
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(bytes)
            hasher.combine(calls)
            hasher.combine(allocated)
        }
    }

    /// The allocated and churn lenses between two dumps; `nil` when either lacks `totB` (a dump made with
    /// `--xtree-memory=allocs`, or not an xtree).
    public static func allocations(
        before: XTreeDump,
        after: XTreeDump,
        folding: AllocatorFolding = .mariadbDefault,
        variables: ServerVariableMap = .mariadbDefault,
        limit: Int = RunReport.defaultSiteLimit
    ) -> Allocations? {
        guard let beforeBytes = before.tree(.totalBytes), let afterBytes = after.tree(.totalBytes) else { return nil }
        let bytesDiff = SnapshotDiff(before: snapshot(beforeBytes), after: snapshot(afterBytes), folding: folding)
        var callsDiff: SnapshotDiff?
        if let beforeCalls = before.tree(.totalBlocks), let afterCalls = after.tree(.totalBlocks) {
            callsDiff = SnapshotDiff(before: snapshot(beforeCalls), after: snapshot(afterCalls), folding: folding)
        }
        var callsByPath: [[String]: Int] = [:]
        for entry in callsDiff?.paths ?? [] where entry.change.delta > 0 {
            callsByPath[entry.path] = entry.change.delta
        }
        var bytesByPath: [[String]: Int] = [:]
        for entry in bytesDiff.paths where entry.change.delta > 0 { bytesByPath[entry.path] = entry.change.delta }

        let allocated = bytesDiff.paths.lazy.filter { $0.change.delta > 0 }.prefix(limit).map { entry in
            site(entry.path, bytes: entry.change.delta, calls: callsByPath[entry.path], variables: variables)
        }
        let churn = (callsDiff?.paths ?? []).lazy.filter { $0.change.delta > 0 }.prefix(limit).map { entry in
            site(entry.path, bytes: bytesByPath[entry.path], calls: entry.change.delta, variables: variables)
        }
        return Allocations(
            bytes: afterBytes.bytes &- beforeBytes.bytes,
            calls: callsDiff.map { $0.heap.delta } ?? 0,
            allocated: Array(allocated),
            churn: Array(churn),
            sizing: sizing(bytesDiff, variables: variables)
        )
    }

    /// The allocated and churn lenses of a dump that holds what a step allocated (the growth of `totB` and
    /// `totBk` between two dumps, ``HeapTree/growth(since:)``).
    public static func allocations(
        during dump: XTreeDump,
        folding: AllocatorFolding = .mariadbDefault,
        variables: ServerVariableMap = .mariadbDefault,
        limit: Int = RunReport.defaultSiteLimit
    ) -> Allocations? {
        var empty = dump
        empty.trees = dump.trees.mapValues { HeapTree(top: $0.top, bytes: 0, children: []) }
        return allocations(before: empty, after: dump, folding: folding, variables: variables, limit: limit)
    }

    /// What was allocated between two dumps of the same process, as a dump of the `totB` and `totBk` trees'
    /// growth: what `snapshots/allocated-NNNN-LABEL.ms` holds.
    public static func allocatedBetween(_ before: XTreeDump, _ after: XTreeDump, step: String) -> XTreeDump? {
        var trees: [XTreeEvent: HeapTree] = [:]
        var events: [XTreeEvent] = []
        for event in [XTreeEvent.totalBytes, .totalBlocks] {
            guard let old = before.tree(event), let new = after.tree(event) else { continue }
            trees[event] = new.growth(since: old)
            events.append(event)
        }
        guard trees[.totalBytes] != nil else { return nil }
        return XTreeDump(
            format: .massif,
            command: "allocated during step '\(step)': xtree dump after minus before (\(after.command))",
            events: events,
            trees: trees,
            milliseconds: after.milliseconds
        )
    }

    /// Several dumps of what steps allocated, added up per call path (what the steps between two snapshots
    /// allocated); `nil` for none.
    public static func adding(_ dumps: [XTreeDump]) -> XTreeDump? {
        guard let first = dumps.first else { return nil }
        var trees: [XTreeEvent: HeapTree] = [:]
        for event in first.events {
            var paths: [[String]: Int] = [:]
            for dump in dumps {
                for (path, bytes) in dump.tree(event)?.pathBytes() ?? [:] {
                    let sum = (paths[path] ?? 0).addingReportingOverflow(bytes)
                    paths[path] = sum.overflow ? Int.max : sum.partialValue
                }
            }
            trees[event] = HeapTree(top: TopDescription(event), paths: paths)
        }
        var sum = first
        sum.trees = trees
        return sum
    }

    /// The peak lens: what grew from the before snapshot to the tallest sampled one, per call path.
    public static func peak(
        before: Snapshot,
        peak: Snapshot,
        folding: AllocatorFolding = .mariadbDefault,
        variables: ServerVariableMap = .mariadbDefault,
        limit: Int = RunReport.defaultSiteLimit
    ) -> (sites: [LensSite], sizing: [(rule: ServerVariableMap.Rule, function: String, bytes: Int)]) {
        let diff = SnapshotDiff(before: before, after: peak, folding: folding)
        // Massif's below-threshold aggregate is part of the growth but names no code: not a site.
        let sites = diff.paths.lazy.filter { $0.change.delta > 0 && $0.path.first != HeapTree.belowThresholdKey }
            .prefix(limit).map { entry in
                site(entry.path, bytes: entry.change.delta, calls: nil, variables: variables)
            }
        return (Array(sites), sizing(diff, variables: variables))
    }

    /// Positive change per sizing rule over every path of a diff, largest first, with the matched frame's
    /// function (the first seen for that rule).
    static func sizing(
        _ diff: SnapshotDiff,
        variables: ServerVariableMap
    ) -> [(rule: ServerVariableMap.Rule, function: String, bytes: Int)] {
        var totals: [ServerVariableMap.Rule: (function: String, bytes: Int)] = [:]
        for entry in diff.paths where entry.change.delta > 0 {
            let frames = entry.path.compactMap(CodeFrame.init(text:))
            guard let (frame, rule) = variables.attribute(frames) else { continue }
            let function = AllocatorFolding.baseName(frame.function)
            let sum = (totals[rule]?.bytes ?? 0).addingReportingOverflow(entry.change.delta)
            totals[rule] = (totals[rule]?.function ?? function, sum.overflow ? Int.max : sum.partialValue)
        }
        return totals.map { (rule: $0.key, function: $0.value.function, bytes: $0.value.bytes) }
            .sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.function < $1.function }
    }

    static func site(_ path: [String], bytes: Int?, calls: Int?, variables: ServerVariableMap) -> LensSite {
        let names = path.map(RunReport.displayName)
        let named = names.first { !$0.hasPrefix("???") } ?? names.first ?? "?"
        let rule = variables.attribute(path.compactMap(CodeFrame.init(text:)))?.rule
        return LensSite(function: named, path: names, bytes: bytes, calls: calls, variables: rule?.variables)
    }

    /// A tree as a detailed snapshot, so that ``SnapshotDiff`` compares two xtree event trees.
    static func snapshot(_ tree: HeapTree) -> Snapshot {
        Snapshot(index: 0, time: 0, heapBytes: tree.bytes, extraBytes: 0, stacksBytes: 0, kind: .detailed, tree: tree)
    }

    /// The findings of a lens's sizing, with variable values where they were read.
    public static func findings(
        lens: String,
        sizing: [(rule: ServerVariableMap.Rule, function: String, bytes: Int)],
        values: [String: Int64]?,
        limit: Int = 3
    ) -> [SizingFinding] {
        let connections = values?["max_connections"]
        return sizing.prefix(limit).map { entry in
            let value = entry.rule.variables.first.flatMap { values?[$0] }
            var worst: Int64?
            if let connections {
                let product = Int64(clamping: entry.bytes).multipliedReportingOverflow(by: connections)
                worst = product.overflow ? Int64.max : product.partialValue
            }
            return SizingFinding(
                lens: lens,
                function: entry.function,
                variables: entry.rule.variables,
                bytes: entry.bytes,
                value: value,
                maxConnections: connections,
                worstCase: worst,
                note: entry.rule.note
            )
        }
    }
}
