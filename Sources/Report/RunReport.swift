import Massif
import RunRecord

/// The answer a run gives: per step, how much the heap grew and in which code, the server's own counters
/// beside it, the configured envelope beside the measured peak, and the budget and leak verdicts.
///
/// Built from the manifest and the parsed snapshot files alone, so `snapctl report RUN` renders exactly
/// what the session wrote. Pure: the caller reads the files.
public struct RunReport: Sendable, Hashable, Codable {
    /// The schema of `report.json`.
    public static let currentSchema = "snapctl.report/1"
    /// How many growing sites each step lists.
    public static let defaultSiteLimit = 5

    public var schema: String
    public var plan: String
    public var status: RunManifest.RunStatus
    public var exitCode: Int32?
    public var message: String?
    public var server: String?
    /// The primary of a profiled replica (`mariadb 10.11.19 at 127.0.0.1:40123, managed`); `nil` otherwise.
    public var primary: String?
    public var steps: [StepReport]
    /// The largest total (heap + extra + stacks) of any labelled snapshot or of Massif's own file.
    public var measuredPeak: Int?
    /// Where the measured peak was seen (`snapshot 7 (after-sort)` or `massif.final.out`).
    public var measuredPeakSource: String?
    public var envelope: RunManifest.Envelope?
    public var budgets: [BudgetVerdict]
    public var leaks: [LeakVerdict]
    /// In pages mode (`--pages-as-heap=yes`), each global buffer variable beside the pages measured under
    /// the code that maps it, at snapshot ``globalBuffersSnapshot``; `nil` in heap mode.
    public var globalBuffers: [GlobalBufferMeasurement]?
    /// The snapshot id the global buffers were measured at (the run's last detailed snapshot).
    public var globalBuffersSnapshot: Int?

    /// True when no budget was exceeded and no leak was flagged.
    public var withinBudgets: Bool {
        budgets.allSatisfy(\.passed) && leaks.allSatisfy { !$0.flagged }
    }

    enum CodingKeys: String, CodingKey {
        case schema, plan, status, message, server, primary, steps, envelope, budgets, leaks
        case exitCode = "exit_code"
        case measuredPeak = "measured_peak_B"
        case measuredPeakSource = "measured_peak_source"
        case withinBudgets = "within_budgets"
        case globalBuffers = "global_buffers"
        case globalBuffersSnapshot = "global_buffers_snapshot"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schema = try container.decode(String.self, forKey: .schema)
        plan = try container.decode(String.self, forKey: .plan)
        status = try container.decode(RunManifest.RunStatus.self, forKey: .status)
        exitCode = try container.decodeIfPresent(Int32.self, forKey: .exitCode)
        message = try container.decodeIfPresent(String.self, forKey: .message)
        server = try container.decodeIfPresent(String.self, forKey: .server)
        primary = try container.decodeIfPresent(String.self, forKey: .primary)
        steps = try container.decode([StepReport].self, forKey: .steps)
        measuredPeak = try container.decodeIfPresent(Int.self, forKey: .measuredPeak)
        measuredPeakSource = try container.decodeIfPresent(String.self, forKey: .measuredPeakSource)
        envelope = try container.decodeIfPresent(RunManifest.Envelope.self, forKey: .envelope)
        budgets = try container.decode([BudgetVerdict].self, forKey: .budgets)
        leaks = try container.decode([LeakVerdict].self, forKey: .leaks)
        globalBuffers = try container.decodeIfPresent([GlobalBufferMeasurement].self, forKey: .globalBuffers)
        globalBuffersSnapshot = try container.decodeIfPresent(Int.self, forKey: .globalBuffersSnapshot)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(plan, forKey: .plan)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(exitCode, forKey: .exitCode)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encodeIfPresent(server, forKey: .server)
        try container.encodeIfPresent(primary, forKey: .primary)
        try container.encode(steps, forKey: .steps)
        try container.encodeIfPresent(measuredPeak, forKey: .measuredPeak)
        try container.encodeIfPresent(measuredPeakSource, forKey: .measuredPeakSource)
        try container.encodeIfPresent(envelope, forKey: .envelope)
        try container.encode(budgets, forKey: .budgets)
        try container.encode(leaks, forKey: .leaks)
        try container.encode(withinBudgets, forKey: .withinBudgets)
        try container.encodeIfPresent(globalBuffers, forKey: .globalBuffers)
        try container.encodeIfPresent(globalBuffersSnapshot, forKey: .globalBuffersSnapshot)
    }
}

/// One step of the report.
public struct StepReport: Sendable, Hashable, Codable {
    public var index: Int
    public var label: String
    public var kind: StepKind
    public var outcome: StepOutcome
    public var duration: Double?
    public var rounds: Int
    /// Total bytes at the step's first snapshot (its before snapshot). For a `snap` step, the snapshot
    /// taken before it in the run (named by ``since``), so that `snap A`, SQL, `snap B` reports at B what
    /// the SQL in between did.
    public var before: Int?
    /// For a `snap` step: the label of the earlier snapshot its change is measured from.
    public var since: String?
    /// Total bytes at the step's last snapshot (its after snapshot, or the last round's).
    public var after: Int?
    /// after minus before.
    public var delta: Int? {
        guard let before, let after else { return nil }
        return after - before
    }
    /// The largest total seen in the step's during snapshots.
    public var duringPeak: Int?
    /// Call paths that grew most, allocator wrappers folded; empty unless both ends are detailed.
    public var sites: [Site]
    /// Call paths that shrank most.
    public var shrunk: [Site]
    /// MariaDB's `Memory_used` at the before and after snapshots.
    public var memoryUsedBefore: UInt64?
    public var memoryUsedAfter: UInt64?
    /// The sum of `PROCESSLIST.MEMORY_USED` at the before and after snapshots.
    public var processlistBefore: UInt64?
    public var processlistAfter: UInt64?
    public var error: String?
    /// `primary` for a step whose SQL ran on the primary; `nil` for the profiled server.
    public var on: String?
    /// The replica's state after the step, when the profiled server is a replica.
    public var replica: ReplicaState?
    /// On a replica: the part of the growth in call paths through replication code.
    public var replicationGrowth: ReplicationGrowth?

    // MARK: Transient-memory lenses (docs/report.md)

    /// Bytes allocated during the step, freed or not (allocated lens; `allocations: true`).
    public var allocatedBytes: Int?
    /// Allocation calls during the step.
    public var allocationCalls: Int?
    /// The allocated lens: call paths by bytes allocated during the step.
    public var allocated: [LensSite]?
    /// The churn lens: call paths by allocation calls during the step.
    public var churn: [LensSite]?
    /// The peak lens: how far the heap stood above the before snapshot at the tallest sampled moment.
    public var peakGrowth: Int?
    /// The snapshot id of the tallest detailed `during` sample.
    public var peakSnapshot: Int?
    /// The sampling interval of the peak lens, in milliseconds: the sampled peak is a lower bound.
    public var peakInterval: Int?
    /// The peak lens: call paths by growth at the tallest sampled moment.
    public var peak: [LensSite]?
    /// Why the peak lens has nothing, or what it fell back to.
    public var peakNote: String?
    /// Memory of the lenses under code a server variable sizes, with the worst case at `max_connections`.
    public var sizing: [SizingFinding]?
    /// Problems computing the lenses (a dump that failed, the server dying between the dumps).
    public var lensProblems: [String]?

    /// True when the step has any transient-memory lens.
    public var hasLenses: Bool {
        allocated != nil || peak != nil || peakNote != nil || lensProblems != nil
    }

    enum CodingKeys: String, CodingKey {
        case index, label, kind, outcome, rounds, sites, shrunk, error, on, replica
        case replicationGrowth = "replication_code"
        case allocated, churn, peak, sizing
        case allocatedBytes = "allocated_B"
        case allocationCalls = "allocations"
        case peakGrowth = "peak_B"
        case peakSnapshot = "peak_snapshot"
        case peakInterval = "peak_interval_ms"
        case peakNote = "peak_note"
        case lensProblems = "lens_problems"
        case duration = "duration_s"
        case before = "before_B"
        case after = "after_B"
        case delta = "delta_B"
        case duringPeak = "during_peak_B"
        case memoryUsedBefore = "memory_used_before_B"
        case memoryUsedAfter = "memory_used_after_B"
        case processlistBefore = "processlist_before_B"
        case processlistAfter = "processlist_after_B"
        case since = "since_snapshot"
    }

    public init(index: Int, label: String, kind: StepKind, outcome: StepOutcome) {
        self.index = index
        self.label = label
        self.kind = kind
        self.outcome = outcome
        self.rounds = 0
        self.sites = []
        self.shrunk = []
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        index = try container.decode(Int.self, forKey: .index)
        label = try container.decode(String.self, forKey: .label)
        kind = try container.decode(StepKind.self, forKey: .kind)
        outcome = try container.decode(StepOutcome.self, forKey: .outcome)
        duration = try container.decodeIfPresent(Double.self, forKey: .duration)
        rounds = try container.decode(Int.self, forKey: .rounds)
        before = try container.decodeIfPresent(Int.self, forKey: .before)
        after = try container.decodeIfPresent(Int.self, forKey: .after)
        since = try container.decodeIfPresent(String.self, forKey: .since)
        duringPeak = try container.decodeIfPresent(Int.self, forKey: .duringPeak)
        sites = try container.decode([Site].self, forKey: .sites)
        shrunk = try container.decode([Site].self, forKey: .shrunk)
        memoryUsedBefore = try container.decodeIfPresent(UInt64.self, forKey: .memoryUsedBefore)
        memoryUsedAfter = try container.decodeIfPresent(UInt64.self, forKey: .memoryUsedAfter)
        processlistBefore = try container.decodeIfPresent(UInt64.self, forKey: .processlistBefore)
        processlistAfter = try container.decodeIfPresent(UInt64.self, forKey: .processlistAfter)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        allocatedBytes = try container.decodeIfPresent(Int.self, forKey: .allocatedBytes)
        allocationCalls = try container.decodeIfPresent(Int.self, forKey: .allocationCalls)
        allocated = try container.decodeIfPresent([LensSite].self, forKey: .allocated)
        churn = try container.decodeIfPresent([LensSite].self, forKey: .churn)
        peakGrowth = try container.decodeIfPresent(Int.self, forKey: .peakGrowth)
        peakSnapshot = try container.decodeIfPresent(Int.self, forKey: .peakSnapshot)
        peakInterval = try container.decodeIfPresent(Int.self, forKey: .peakInterval)
        peak = try container.decodeIfPresent([LensSite].self, forKey: .peak)
        peakNote = try container.decodeIfPresent(String.self, forKey: .peakNote)
        sizing = try container.decodeIfPresent([SizingFinding].self, forKey: .sizing)
        lensProblems = try container.decodeIfPresent([String].self, forKey: .lensProblems)
        on = try container.decodeIfPresent(String.self, forKey: .on)
        replica = try container.decodeIfPresent(ReplicaState.self, forKey: .replica)
        replicationGrowth = try container.decodeIfPresent(ReplicationGrowth.self, forKey: .replicationGrowth)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(index, forKey: .index)
        try container.encode(label, forKey: .label)
        try container.encode(kind, forKey: .kind)
        try container.encode(outcome, forKey: .outcome)
        try container.encodeIfPresent(duration, forKey: .duration)
        try container.encode(rounds, forKey: .rounds)
        try container.encodeIfPresent(before, forKey: .before)
        try container.encodeIfPresent(after, forKey: .after)
        try container.encodeIfPresent(since, forKey: .since)
        try container.encodeIfPresent(delta, forKey: .delta)
        try container.encodeIfPresent(duringPeak, forKey: .duringPeak)
        try container.encode(sites, forKey: .sites)
        try container.encode(shrunk, forKey: .shrunk)
        try container.encodeIfPresent(memoryUsedBefore, forKey: .memoryUsedBefore)
        try container.encodeIfPresent(memoryUsedAfter, forKey: .memoryUsedAfter)
        try container.encodeIfPresent(processlistBefore, forKey: .processlistBefore)
        try container.encodeIfPresent(processlistAfter, forKey: .processlistAfter)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(allocatedBytes, forKey: .allocatedBytes)
        try container.encodeIfPresent(allocationCalls, forKey: .allocationCalls)
        try container.encodeIfPresent(allocated, forKey: .allocated)
        try container.encodeIfPresent(churn, forKey: .churn)
        try container.encodeIfPresent(peakGrowth, forKey: .peakGrowth)
        try container.encodeIfPresent(peakSnapshot, forKey: .peakSnapshot)
        try container.encodeIfPresent(peakInterval, forKey: .peakInterval)
        try container.encodeIfPresent(peak, forKey: .peak)
        try container.encodeIfPresent(peakNote, forKey: .peakNote)
        try container.encodeIfPresent(sizing, forKey: .sizing)
        try container.encodeIfPresent(lensProblems, forKey: .lensProblems)
        try container.encodeIfPresent(on, forKey: .on)
        try container.encodeIfPresent(replica, forKey: .replica)
        try container.encodeIfPresent(replicationGrowth, forKey: .replicationGrowth)
    }
}

/// A call path whose bytes changed: the first real caller (allocator wrappers folded) and its callers.
public struct Site: Sendable, Hashable, Codable {
    /// The first named frame from the allocation site outwards (allocator wrappers folded), for display;
    /// frames of a stripped binary without a name are skipped here but kept in `path`.
    public var function: String
    /// Display names from the allocation site outwards.
    public var path: [String]
    public var delta: Int

    public init(function: String, path: [String], delta: Int) {
        self.function = function
        self.path = path
        self.delta = delta
    }

    enum CodingKeys: String, CodingKey {
        case function, path
        case delta = "delta_B"
    }
}

/// A budget and whether the run kept it.
public struct BudgetVerdict: Sendable, Hashable, Codable {
    /// `max_growth`, `max_peak`, `max_allocated`, `max_allocations` (a step's) or `max_heap` (the plan's).
    /// `max_allocations` counts allocation calls; the others bytes (`limit_B`, `measured_B` hold the count).
    public var budget: String
    /// The step, for `max_growth`.
    public var step: String?
    public var limit: Int64
    /// What was measured; `nil` when it could not be (a step without before and after snapshots).
    public var measured: Int?
    public var passed: Bool
    /// Why the budget could not be checked, if it could not.
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case budget, step, passed, note
        case limit = "limit_B"
        case measured = "measured_B"
    }
}

/// The leak check of one repeated step.
public struct LeakVerdict: Sendable, Hashable, Codable {
    public var step: String
    public var rounds: Int
    /// Round-to-round transitions in which the heap grew.
    public var growingRounds: Int
    /// growingRounds over the transitions (rounds - 1).
    public var growingFraction: Double
    /// Total bytes, after the first round to after the last.
    public var growth: Int
    public var flagged: Bool
    /// Call paths that grew from the first round to the last.
    public var sites: [Site]

    enum CodingKeys: String, CodingKey {
        case step, rounds, growth, flagged, sites
        case growingRounds = "growing_rounds"
        case growingFraction = "growing_fraction"
    }
}
