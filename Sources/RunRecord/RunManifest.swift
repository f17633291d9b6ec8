/// The record of one run, `manifest.json` in the run directory: schema `snapctl.run/1`.
///
/// Writers (the session) and readers (`snapctl report`, bundles) share this one model so that the file
/// format is defined in one place; docs/manifest.md describes every field. The manifest is written after
/// every step, so even a run that is killed outright leaves a record of what it had done.
public struct RunManifest: Sendable, Hashable, Codable {
    /// The schema this snapctl writes.
    public static let currentSchema = "snapctl.run/1"
    /// The schema family; a manifest whose schema is `snapctl.run/N` with N above ours is refused.
    public static let schemaFamily = "snapctl.run/"
    /// The schema version number this snapctl writes and reads.
    public static let currentSchemaVersion = 1

    /// Always ``currentSchema`` when written by this snapctl.
    public var schema: String
    /// The tool that wrote the run.
    public var tool: Tool
    /// The plan that was run.
    public var plan: PlanInfo
    /// The server profiled; `nil` until it has started.
    public var server: ServerInfo?
    /// When the run started, ISO 8601 UTC (`2026-11-21T06:05:37Z`).
    public var startedAt: String
    /// When the run was finalised, ISO 8601 UTC; `nil` while it runs.
    public var finishedAt: String?
    /// Seconds from start to finalisation.
    public var durationSeconds: Double?
    /// How the run ended.
    public var outcome: Outcome
    /// The budgets the plan set, kept here so that a report can be rendered from the run directory alone.
    public var budgets: Budgets
    /// Every step, in plan order; steps that never ran have outcome `not_run`.
    public var steps: [StepRecord]
    /// Every snapshot taken, in order; `id` is the number in the file name and `timeline_index + 1`.
    public var snapshots: [SnapshotRecord]
    /// Massif's own end-of-run file, when the server wrote one.
    public var massifFinal: MassifFinal?
    /// Files of the run directory other than the snapshots, relative to it.
    public var files: [String]
    /// Things that went wrong without stopping the run (a snapshot that failed, a counter unreadable).
    public var warnings: [String]
    /// What `snapctl bundle pack` took out of the run; absent in a run directory as the session wrote it.
    public var redaction: Redaction? = nil
    /// The primary the profiled replica replicated from; absent when the server was not a replica.
    public var primary: PrimaryInfo? = nil

    public init(
        tool: Tool,
        plan: PlanInfo,
        startedAt: String,
        budgets: Budgets = Budgets(),
        steps: [StepRecord] = []
    ) {
        self.schema = Self.currentSchema
        self.tool = tool
        self.plan = plan
        self.server = nil
        self.startedAt = startedAt
        self.finishedAt = nil
        self.durationSeconds = nil
        self.outcome = Outcome(status: .running)
        self.budgets = budgets
        self.steps = steps
        self.snapshots = []
        self.massifFinal = nil
        self.files = []
        self.warnings = []
    }

    enum CodingKeys: String, CodingKey {
        case schema, tool, plan, server, primary, outcome, budgets, steps, snapshots, files, warnings, redaction
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationSeconds = "duration_s"
        case massifFinal = "massif_final"
    }

    /// The snapshots of one step, in the order taken.
    public func snapshots(ofStep label: String) -> [SnapshotRecord] {
        snapshots.filter { $0.step == label }
    }

    /// The snapshot with this id.
    public func snapshot(id: Int) -> SnapshotRecord? {
        snapshots.first { $0.id == id }
    }
}

extension RunManifest {
    /// The program that wrote the record.
    public struct Tool: Sendable, Hashable, Codable {
        public var name: String
        public var version: String
        /// The command line it was started with.
        public var arguments: [String]

        public init(name: String = "snapctl", version: String, arguments: [String] = []) {
            self.name = name
            self.version = version
            self.arguments = arguments
        }
    }

    /// The plan run.
    public struct PlanInfo: Sendable, Hashable, Codable {
        public var name: String
        public var description: String?
        /// The plan file as given on the command line.
        public var source: String
        /// The copy in the run directory (`plan.yaml`).
        public var file: String

        public init(name: String, description: String? = nil, source: String, file: String = RunLayout.planFile) {
            self.name = name
            self.description = description
            self.source = source
            self.file = file
        }
    }

    /// The server and how it was run.
    public struct ServerInfo: Sendable, Hashable, Codable {
        /// `managed` (snapctl started it) or `attached`.
        public var mode: String
        public var flavor: String
        public var version: String
        public var binary: String?
        /// The valgrind process id (the pid vgdb talks to).
        public var pid: Int32
        /// The full valgrind command line, for reproducing the run.
        public var valgrindCommand: [String]
        /// The variables snapctl set for valgrind and the server (glibc's copy thresholds, see
        /// docs/architecture.md); for an attached server, its `GLIBC_TUNABLES` if it has one. `nil` in
        /// records written before snapctl set any.
        public var valgrindEnvironment: [String: String]?
        public var valgrindVersion: String?
        public var startupSeconds: Double?
        /// The server's memory variables (name to bytes) at start.
        public var memoryVariables: [String: UInt64]
        /// The configured memory envelope computed from them.
        public var envelope: Envelope?
        /// How the server was stopped (`sql_shutdown`, `sigterm`, ...) and its exit, once it has.
        public var shutdown: String?
        /// Whether Massif ran with `--pages-as-heap=yes`: snapshots then count mapped pages, not malloc's
        /// blocks. `nil` in records written before snapctl knew the mode (they are heap mode).
        public var pagesAsHeap: Bool?
        /// The malloc replacements snapctl found (the binary's needed libraries, `LD_PRELOAD`, or the
        /// attached process's maps); `nil` or empty when the server runs on the C library's malloc.
        public var allocators: [Allocator]?
        /// The `--soname-synonyms` option snapctl added to Massif's for them, if any.
        public var sonameSynonyms: String?

        public init(
            mode: String,
            flavor: String,
            version: String,
            binary: String? = nil,
            pid: Int32,
            valgrindCommand: [String] = [],
            valgrindEnvironment: [String: String]? = nil,
            valgrindVersion: String? = nil,
            startupSeconds: Double? = nil,
            memoryVariables: [String: UInt64] = [:],
            envelope: Envelope? = nil,
            shutdown: String? = nil,
            pagesAsHeap: Bool? = nil,
            allocators: [Allocator]? = nil,
            sonameSynonyms: String? = nil
        ) {
            self.mode = mode
            self.flavor = flavor
            self.version = version
            self.binary = binary
            self.pid = pid
            self.valgrindCommand = valgrindCommand
            self.valgrindEnvironment = valgrindEnvironment
            self.valgrindVersion = valgrindVersion
            self.startupSeconds = startupSeconds
            self.memoryVariables = memoryVariables
            self.envelope = envelope
            self.shutdown = shutdown
            self.pagesAsHeap = pagesAsHeap
            self.allocators = allocators
            self.sonameSynonyms = sonameSynonyms
        }

        enum CodingKeys: String, CodingKey {
            case mode, flavor, version, binary, pid, envelope, shutdown, allocators
            case pagesAsHeap = "pages_as_heap"
            case sonameSynonyms = "soname_synonyms"
            case valgrindCommand = "valgrind_command"
            case valgrindEnvironment = "valgrind_environment"
            case valgrindVersion = "valgrind_version"
            case startupSeconds = "startup_s"
            case memoryVariables = "memory_variables"
        }
    }

    /// A malloc replacement found in the server's process.
    public struct Allocator: Sendable, Hashable, Codable {
        /// `jemalloc`, `tcmalloc`, or `unknown` (a library snapctl has no synonym for).
        public var kind: String
        /// The library as named (soname or path).
        public var library: String
        /// `needed_library`, `ld_preload` or `maps`.
        public var source: String

        public init(kind: String, library: String, source: String) {
            self.kind = kind
            self.library = library
            self.source = source
        }
    }

    /// What the configuration says the server may use: global buffers plus max_connections times the
    /// per-session buffers.
    public struct Envelope: Sendable, Hashable, Codable {
        public var globalBuffers: UInt64
        public var perSession: UInt64
        public var maxConnections: UInt64
        public var total: UInt64

        public init(globalBuffers: UInt64, perSession: UInt64, maxConnections: UInt64, total: UInt64) {
            self.globalBuffers = globalBuffers
            self.perSession = perSession
            self.maxConnections = maxConnections
            self.total = total
        }

        enum CodingKeys: String, CodingKey {
            case globalBuffers = "global_buffers_B"
            case perSession = "per_session_B"
            case maxConnections = "max_connections"
            case total = "total_B"
        }
    }

    /// How the run ended.
    public struct Outcome: Sendable, Hashable, Codable {
        public var status: RunStatus
        /// The process exit status snapctl chose (docs/architecture.md, "Exit codes").
        public var exitCode: Int32?
        /// What happened, for humans; `nil` for a clean run.
        public var message: String?
        /// The step the run stopped at, if it stopped at one.
        public var step: String?

        public init(status: RunStatus, exitCode: Int32? = nil, message: String? = nil, step: String? = nil) {
            self.status = status
            self.exitCode = exitCode
            self.message = message
            self.step = step
        }

        enum CodingKeys: String, CodingKey {
            case status, message, step
            case exitCode = "exit_code"
        }
    }

    /// The state of a run.
    public enum RunStatus: String, Sendable, Hashable, Codable, CaseIterable {
        /// Still running (or snapctl was killed before it could finalise).
        case running
        /// Every step had its expected outcome.
        case completed
        /// A step failed (unexpected SQL error, unmet expectation, timeout, failing shell command).
        case stepFailed = "step_failed"
        /// The server died.
        case serverDied = "server_died"
        /// The server could not be started or attached to.
        case startFailed = "start_failed"
        /// Ctrl-C or SIGTERM.
        case interrupted
    }

    /// The budgets a plan set; sizes in bytes.
    public struct Budgets: Sendable, Hashable, Codable {
        /// The plan's `budget.max_heap`.
        public var maxHeap: Int64?
        /// Each step's `budget.max_growth`, by step label.
        public var maxGrowth: [String: Int64]
        /// The plan's `leak.min_growth`.
        public var leakMinGrowth: Int64
        /// The plan's `leak.min_rounds_fraction`.
        public var leakMinRoundsFraction: Double
        /// Each step's `budget.max_peak` (growth at the tallest sampled moment), by step label.
        public var maxPeak: [String: Int64]?
        /// Each step's `budget.max_allocated` (bytes allocated during the step), by step label.
        public var maxAllocated: [String: Int64]?
        /// Each step's `budget.max_allocations` (allocation calls during the step), by step label.
        public var maxAllocations: [String: Int64]?

        public init(
            maxHeap: Int64? = nil,
            maxGrowth: [String: Int64] = [:],
            leakMinGrowth: Int64 = 64 * 1024,
            leakMinRoundsFraction: Double = 0.8
        ) {
            self.maxHeap = maxHeap
            self.maxGrowth = maxGrowth
            self.leakMinGrowth = leakMinGrowth
            self.leakMinRoundsFraction = leakMinRoundsFraction
        }

        enum CodingKeys: String, CodingKey {
            case maxHeap = "max_heap_B"
            case maxGrowth = "max_growth_B"
            case leakMinGrowth = "leak_min_growth_B"
            case leakMinRoundsFraction = "leak_min_rounds_fraction"
            case maxPeak = "max_peak_B"
            case maxAllocated = "max_allocated_B"
            case maxAllocations = "max_allocations"
        }
    }

    /// Massif's end-of-run file (`massif.final.out`), summarised.
    public struct MassifFinal: Sendable, Hashable, Codable {
        public var file: String
        public var snapshots: Int
        /// The largest total any of its snapshots shows.
        public var peakTotal: Int?

        public init(file: String, snapshots: Int, peakTotal: Int?) {
            self.file = file
            self.snapshots = snapshots
            self.peakTotal = peakTotal
        }

        enum CodingKeys: String, CodingKey {
            case file, snapshots
            case peakTotal = "peak_total_B"
        }
    }

    /// What a bundle's packer replaced, so that a reader knows what is missing and whether the run can be
    /// replayed.
    public struct Redaction: Sendable, Hashable, Codable {
        /// Whether SQL string and number literals were replaced by `?` (`--redact-literals`).
        public var literals: Bool
        /// Whether `snapctl replay` can run the bundle again: not once its literals are gone.
        public var replayable: Bool
        /// What stands for the packing machine's host names.
        public var hostPlaceholder: String
        /// Environment variables whose values were found in the run's files and replaced by
        /// `REDACTED_<NAME>`.
        public var environmentVariables: [String]

        public init(literals: Bool, hostPlaceholder: String, environmentVariables: [String]) {
            self.literals = literals
            self.replayable = !literals
            self.hostPlaceholder = hostPlaceholder
            self.environmentVariables = environmentVariables
        }

        enum CodingKeys: String, CodingKey {
            case literals, replayable
            case hostPlaceholder = "host_placeholder"
            case environmentVariables = "environment_variables"
        }
    }
}
