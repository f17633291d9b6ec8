/// One labelled snapshot of a run.
public struct SnapshotRecord: Sendable, Hashable, Codable {
    /// 1-based, in the order taken; the number in the file name.
    public var id: Int
    /// The label of the step it belongs to (`end` for the final snapshot).
    public var step: String
    /// When in the step it was taken.
    public var phase: SnapshotPhase
    /// The round of a repeated step (1-based), for `after` snapshots of `repeat` steps.
    public var round: Int?
    /// The file, relative to the run directory (`snapshots/0007-before-sort.massif`).
    public var file: String
    /// `detailed` (with a heap tree) or `light` (totals only).
    public var kind: SnapshotKind
    /// Seconds from the start of the run.
    public var time: Double
    /// Massif's time stamp of the snapshot, in the run's time unit.
    public var massifTime: Int
    /// Useful heap bytes (`mem_heap_B`).
    public var heapBytes: Int
    /// Allocator overhead bytes (`mem_heap_extra_B`).
    public var extraBytes: Int
    /// Stack bytes (`mem_stacks_B`; 0 unless Massif runs with `--stacks=yes`).
    public var stacksBytes: Int
    /// Its position in `timeline.massif` (0-based, Massif's `snapshot=` number).
    public var timelineIndex: Int
    /// Server counters read through the observer connection just after the snapshot.
    public var counters: ServerCounters?
    /// Milliseconds from the request to the snapshot file being written (interrupt, command, resume).
    public var triggerLatencyMilliseconds: Double

    /// heap + extra + stacks, what ms_print calls the total.
    public var totalBytes: Int { heapBytes + extraBytes + stacksBytes }

    /// The snapshot's own label: `before-sort`, `during-sort`, `after-leak-r03`, the step's label for a
    /// `snap` step, `final` for the last one. File names use the same words.
    public var label: String {
        switch phase {
        case .snap: return step
        case .final: return "final"
        default:
            var text = phase.rawValue + "-" + step
            if let round {
                var number = String(round)
                while number.count < 2 { number = "0" + number }
                text += "-r" + number
            }
            return text
        }
    }

    public init(
        id: Int,
        step: String,
        phase: SnapshotPhase,
        round: Int? = nil,
        file: String,
        kind: SnapshotKind,
        time: Double,
        massifTime: Int,
        heapBytes: Int,
        extraBytes: Int,
        stacksBytes: Int,
        timelineIndex: Int,
        counters: ServerCounters? = nil,
        triggerLatencyMilliseconds: Double
    ) {
        self.id = id
        self.step = step
        self.phase = phase
        self.round = round
        self.file = file
        self.kind = kind
        self.time = time
        self.massifTime = massifTime
        self.heapBytes = heapBytes
        self.extraBytes = extraBytes
        self.stacksBytes = stacksBytes
        self.timelineIndex = timelineIndex
        self.counters = counters
        self.triggerLatencyMilliseconds = triggerLatencyMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case id, step, phase, round, file, kind, counters, label
        case time = "time_s"
        case massifTime = "massif_time"
        case heapBytes = "heap_B"
        case extraBytes = "extra_B"
        case stacksBytes = "stacks_B"
        case totalBytes = "total_B"
        case timelineIndex = "timeline_index"
        case triggerLatencyMilliseconds = "trigger_latency_ms"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int.self, forKey: .id)
        step = try container.decode(String.self, forKey: .step)
        phase = try container.decode(SnapshotPhase.self, forKey: .phase)
        round = try container.decodeIfPresent(Int.self, forKey: .round)
        file = try container.decode(String.self, forKey: .file)
        kind = try container.decode(SnapshotKind.self, forKey: .kind)
        time = try container.decode(Double.self, forKey: .time)
        massifTime = try container.decode(Int.self, forKey: .massifTime)
        heapBytes = try container.decode(Int.self, forKey: .heapBytes)
        extraBytes = try container.decode(Int.self, forKey: .extraBytes)
        stacksBytes = try container.decode(Int.self, forKey: .stacksBytes)
        timelineIndex = try container.decode(Int.self, forKey: .timelineIndex)
        counters = try container.decodeIfPresent(ServerCounters.self, forKey: .counters)
        triggerLatencyMilliseconds = try container.decode(Double.self, forKey: .triggerLatencyMilliseconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(label, forKey: .label)
        try container.encode(step, forKey: .step)
        try container.encode(phase, forKey: .phase)
        try container.encodeIfPresent(round, forKey: .round)
        try container.encode(file, forKey: .file)
        try container.encode(kind, forKey: .kind)
        try container.encode(time, forKey: .time)
        try container.encode(massifTime, forKey: .massifTime)
        try container.encode(heapBytes, forKey: .heapBytes)
        try container.encode(extraBytes, forKey: .extraBytes)
        try container.encode(stacksBytes, forKey: .stacksBytes)
        try container.encode(totalBytes, forKey: .totalBytes)
        try container.encode(timelineIndex, forKey: .timelineIndex)
        try container.encodeIfPresent(counters, forKey: .counters)
        try container.encode(triggerLatencyMilliseconds, forKey: .triggerLatencyMilliseconds)
    }
}

/// When a snapshot was taken relative to its step.
public enum SnapshotPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case before
    /// On the step's `during` timer while its SQL ran (always light).
    case during
    /// After the step, or after each round of a repeated step.
    case after
    /// A `snap` step's own snapshot.
    case snap
    /// The last snapshot, after every step, before the server is shut down.
    case final
}

/// Server counters read at a snapshot (plan key `observe:`); a counter not observed, or that the server
/// lacks, is absent.
public struct ServerCounters: Sendable, Hashable, Codable {
    /// MariaDB's global `Memory_used` status.
    public var memoryUsed: UInt64?
    /// `information_schema.PROCESSLIST.MEMORY_USED` per connection.
    public var processlist: [ProcessMemory]?
    /// Numeric `SHOW GLOBAL STATUS` values (`observe: [global_status]`).
    public var globalStatus: [String: Int64]?
    /// The performance schema's current bytes by event name, where it is enabled.
    public var performanceSchemaBytes: Int64?
    /// Why a counter could not be read, if one could not.
    public var error: String?

    public init(
        memoryUsed: UInt64? = nil,
        processlist: [ProcessMemory]? = nil,
        globalStatus: [String: Int64]? = nil,
        performanceSchemaBytes: Int64? = nil,
        error: String? = nil
    ) {
        self.memoryUsed = memoryUsed
        self.processlist = processlist
        self.globalStatus = globalStatus
        self.performanceSchemaBytes = performanceSchemaBytes
        self.error = error
    }

    /// The sum of `MEMORY_USED` over the connections listed, saturating at `UInt64.max`: a manifest may come
    /// from a bundle, and its figures from anyone.
    public var processlistTotal: UInt64? {
        processlist.map {
            $0.reduce(0) { total, row in
                let (sum, overflow) = total.addingReportingOverflow(row.memoryUsed)
                return overflow ? UInt64.max : sum
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case processlist, error
        case memoryUsed = "memory_used_B"
        case globalStatus = "global_status"
        case performanceSchemaBytes = "performance_schema_B"
    }
}

/// One row of `information_schema.PROCESSLIST`.
public struct ProcessMemory: Sendable, Hashable, Codable {
    public var id: UInt64
    public var user: String
    public var command: String
    public var memoryUsed: UInt64

    public init(id: UInt64, user: String, command: String, memoryUsed: UInt64) {
        self.id = id
        self.user = user
        self.command = command
        self.memoryUsed = memoryUsed
    }

    enum CodingKeys: String, CodingKey {
        case id, user, command
        case memoryUsed = "memory_used_B"
    }
}
