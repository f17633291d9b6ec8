extension Plan {
    /// One step of a plan: exactly one kind of work, plus what to snapshot and check around it.
    public struct Step: Sendable, Hashable, Codable {
        /// The step's label, unique in the plan; snapshot files are named after ``SnapshotLabel/fileSafe(_:)``.
        public var label: String
        /// What the step does.
        public var kind: Kind
        /// How many times a `sql` or `sql_file` step runs; 1 for every other kind.
        public var `repeat`: Int
        /// What the step snapshots, with the plan's default already applied.
        public var snapshots: StepSnapshots
        /// The outcome the step must have; `nil` means every statement succeeds.
        public var expect: Expectation?
        /// The most the heap may grow across the step (after minus before); `nil` means no limit.
        public var maxGrowth: ByteSize?
        /// The connection the step runs on; `nil` means the plan's first connection.
        public var connection: String?
        /// How long the step may take; `nil` means no limit.
        public var timeout: PlanDuration?
        /// `allocations:` resolved (the step's own, else the plan's): whether the step gets the allocated and
        /// churn lenses, from xtree memory dumps before and after it (the server then runs with
        /// `--xtree-memory=full`).
        public var allocations: Bool = false
        /// The step's budgets on the lenses (`max_peak`, `max_allocated`, `max_allocations`).
        public var lensBudget: LensBudget = LensBudget()
        /// Which server the step's SQL runs on (`on:`): the profiled server unless it says `primary`.
        public var on: StepServer
        /// How long the replica may take to catch up after this step (`catch_up_timeout:`); `nil` means
        /// the primary's own.
        public var catchUpTimeout: PlanDuration?

        public init(
            label: String,
            kind: Kind,
            repeat: Int = 1,
            snapshots: StepSnapshots = StepSnapshots(),
            expect: Expectation? = nil,
            maxGrowth: ByteSize? = nil,
            connection: String? = nil,
            timeout: PlanDuration? = nil,
            on: StepServer = .server,
            catchUpTimeout: PlanDuration? = nil
        ) {
            self.label = label
            self.kind = kind
            self.repeat = `repeat`
            self.snapshots = snapshots
            self.expect = expect
            self.maxGrowth = maxGrowth
            self.connection = connection
            self.timeout = timeout
            self.on = on
            self.catchUpTimeout = catchUpTimeout
        }

        /// The statements a `sql`, resolved `sql_file` or `parallel` step runs; empty for other kinds.
        public var statements: [String] {
            switch kind {
            case .sql(let statements): return statements
            case .sqlFile(let file): return file.statements ?? []
            case .parallel(let parallel): return parallel.statements
            case .snap, .sleep, .shell: return []
            }
        }
    }

    /// What a step does: exactly one of these keys.
    public enum StepKind: Sendable, Hashable, Codable {
        /// `sql:` statements run in order on the step's connection.
        case sql(statements: [String])
        /// `sql_file:` a file of statements, split on `;` (see ``SQLSplitter``).
        case sqlFile(SQLFile)
        /// `snap: LABEL`: a snapshot of its own; the step's label is the value. Detailed, unless the step has
        /// `snapshots: light` (then ``Step/snapshots`` is `.uniform(.light)`).
        case snap
        /// `sleep:` wait.
        case sleep(PlanDuration)
        /// `shell:` a command run with `/bin/sh -c`; `SNAPCTL_SOCKET` and friends are in its environment.
        case shell(command: String)
        /// `parallel:` the same statements on several connections at once.
        case parallel(Parallel)

        /// The plan key of this kind, e.g. `sql_file`.
        public var key: String {
            switch self {
            case .sql: return "sql"
            case .sqlFile: return "sql_file"
            case .snap: return "snap"
            case .sleep: return "sleep"
            case .shell: return "shell"
            case .parallel: return "parallel"
            }
        }
    }

    /// A file of SQL statements, named relative to the plan file.
    public struct SQLFile: Sendable, Hashable, Codable {
        /// The path as written in the plan.
        public var path: String
        /// The file's statements once resolved through ``Plan/LoadOptions/readFile``; `nil` before that.
        public var statements: [String]?

        public init(path: String, statements: [String]? = nil) {
            self.path = path
            self.statements = statements
        }
    }

    /// The same statements run on several fresh connections at once (`parallel:`).
    public struct Parallel: Sendable, Hashable, Codable {
        /// How many connections, each made like the step's connection.
        public var connections: Int
        /// The statements each connection runs.
        public var statements: [String]

        public init(connections: Int, statements: [String]) {
            self.connections = connections
            self.statements = statements
        }
    }

    /// What a step snapshots (`snapshots:` of a step).
    public struct StepSnapshots: Sendable, Hashable, Codable {
        /// The snapshot before the step.
        public var before: SnapshotKind
        /// The snapshot after the step (after each round of a repeated step).
        public var after: SnapshotKind
        /// The interval of light snapshots while the step runs; `nil` means none.
        public var during: PlanDuration?
        /// `peak: detailed`: the `during` samples are detailed snapshots, so that the tallest one names the code
        /// that held the step's peak (the peak lens).
        public var peak: Bool = false

        public init(
            before: SnapshotKind = .detailed,
            after: SnapshotKind = .detailed,
            during: PlanDuration? = nil,
            peak: Bool = false
        ) {
            self.before = before
            self.after = after
            self.during = during
            self.peak = peak
        }

        /// Before and after of the same kind, nothing during: what a plan-wide default or a shorthand string means.
        public static func uniform(_ kind: SnapshotKind) -> StepSnapshots {
            StepSnapshots(before: kind, after: kind)
        }
    }

    /// The outcome a step must have (`expect:`); a step whose outcome differs fails the run.
    public struct Expectation: Sendable, Hashable, Codable {
        /// The error the step's last statement must fail with; `nil` means it must succeed.
        public var error: ExpectedError?
        /// The rows the last statement returns (or, without a result set, affects).
        public var rows: Int?
        /// The warnings the last statement raises.
        public var warnings: Int?

        public init(error: ExpectedError? = nil, rows: Int? = nil, warnings: Int? = nil) {
            self.error = error
            self.rows = rows
            self.warnings = warnings
        }
    }

    /// An expected server error: a numeric code (`error: 1146`) or an SQLSTATE (`error: "42S02"`).
    public enum ExpectedError: Sendable, Hashable, Codable, CustomStringConvertible {
        /// A server error number, e.g. 1146 (`ER_NO_SUCH_TABLE`).
        case code(Int)
        /// A five-character SQLSTATE, e.g. `42S02`.
        case sqlState(String)

        public var description: String {
            switch self {
            case .code(let code): return String(code)
            case .sqlState(let state): return state
            }
        }
    }
}

extension Plan {
    /// A step's budgets on the transient-memory lenses (`budget: {max_peak, max_allocated, max_allocations}`).
    public struct LensBudget: Sendable, Hashable, Codable {
        /// The most the heap may stand above the step's before snapshot at its tallest sampled moment.
        public var maxPeak: ByteSize?
        /// The most bytes the step may allocate (freed or not).
        public var maxAllocated: ByteSize?
        /// The most allocation calls the step may make.
        public var maxAllocations: Int?

        public init(maxPeak: ByteSize? = nil, maxAllocated: ByteSize? = nil, maxAllocations: Int? = nil) {
            self.maxPeak = maxPeak
            self.maxAllocated = maxAllocated
            self.maxAllocations = maxAllocations
        }

        /// True when no lens budget is set.
        public var isEmpty: Bool { maxPeak == nil && maxAllocated == nil && maxAllocations == nil }
    }
}

extension Plan.Step {
    /// What a step does.
    public typealias Kind = Plan.StepKind
}
