/// One step of a run as it happened.
public struct StepRecord: Sendable, Hashable, Codable {
    /// 1-based position in the plan.
    public var index: Int
    public var label: String
    /// The plan key of the step's kind: `sql`, `sql_file`, `snap`, `sleep`, `shell`, `parallel`.
    public var kind: StepKind
    /// The connection the step ran on, for SQL steps.
    public var connection: String?
    /// The statements run (for `sql`, `sql_file` and `parallel`).
    public var sql: [String]?
    /// The file for `sql_file`, as written in the plan.
    public var file: String?
    /// The command for `shell`.
    public var command: String?
    /// How many rounds the step was asked to run.
    public var `repeat`: Int
    /// Rounds completed.
    public var rounds: Int
    /// Connections for `parallel`.
    public var parallelConnections: Int?
    /// Seconds from the start of the run to the start of the step (its before snapshot excluded).
    public var start: Double?
    /// Seconds the step's work took, snapshots excluded.
    public var duration: Double?
    public var outcome: StepOutcome
    /// Rows returned (or affected, without a result set) by the last statement; summed over connections
    /// for `parallel`.
    public var rows: UInt64?
    /// Warnings raised by the last statement.
    public var warnings: UInt32?
    /// The error, expected or not.
    public var error: StepError?
    /// Exit status of a `shell` step.
    public var exitStatus: String?
    /// What the transient-memory lenses of the step were computed from; `nil` when it asked for none.
    public var lenses: StepLenses?
    /// `primary` for a step whose SQL ran on the primary; `nil` for the profiled server.
    public var on: String? = nil
    /// The replica's state after the step, when the profiled server is a replica.
    public var replica: ReplicaState? = nil

    public init(
        index: Int,
        label: String,
        kind: StepKind,
        connection: String? = nil,
        sql: [String]? = nil,
        file: String? = nil,
        command: String? = nil,
        repeat: Int = 1,
        parallelConnections: Int? = nil
    ) {
        self.index = index
        self.label = label
        self.kind = kind
        self.connection = connection
        self.sql = sql
        self.file = file
        self.command = command
        self.repeat = `repeat`
        self.rounds = 0
        self.parallelConnections = parallelConnections
        self.start = nil
        self.duration = nil
        self.outcome = .notRun
        self.rows = nil
        self.warnings = nil
        self.error = nil
        self.exitStatus = nil
    }

    enum CodingKeys: String, CodingKey {
        case index, label, kind, connection, sql, file, command, rounds, outcome, rows, warnings, error, on, replica
        case `repeat`
        case parallelConnections = "parallel_connections"
        case start = "start_s"
        case duration = "duration_s"
        case exitStatus = "exit_status"
        case lenses
    }
}

/// What a step's transient-memory lenses (allocated, churn, peak) were computed from: the xtree memory dumps
/// around its work, the peak lens's sampling interval, and the server variables that size the code they found.
public struct StepLenses: Sendable, Hashable, Codable {
    /// What the step allocated (`snapshots/allocated-NNNN-LABEL.ms`): the `totB` and `totBk` trees of the xtree
    /// dump after its work minus the dump before it, relative to the run directory.
    public var allocations: String?
    /// Milliseconds each xtree dump took (the server is frozen meanwhile), before and after.
    public var dumpMilliseconds: [Double]?
    /// The peak lens's sampling interval (`during:` with `peak: detailed`), in milliseconds.
    public var peakIntervalMilliseconds: Int?
    /// Values of the server variables that size code found in the lenses, and `max_connections`, read after
    /// the step: the session value on the step's connection, or the global value (``variablesScope``).
    public var variables: [String: Int64]?
    /// `session` (read on the step's own connection) or `global`.
    public var variablesScope: String?
    /// Why a lens could not be computed (a dump that failed, the server dying between the dumps).
    public var problems: [String]?

    public init(
        allocations: String? = nil,
        dumpMilliseconds: [Double]? = nil,
        peakIntervalMilliseconds: Int? = nil,
        variables: [String: Int64]? = nil,
        variablesScope: String? = nil,
        problems: [String]? = nil
    ) {
        self.allocations = allocations
        self.dumpMilliseconds = dumpMilliseconds
        self.peakIntervalMilliseconds = peakIntervalMilliseconds
        self.variables = variables
        self.variablesScope = variablesScope
        self.problems = problems
    }

    enum CodingKeys: String, CodingKey {
        case variables, problems, allocations
        case dumpMilliseconds = "dump_ms"
        case peakIntervalMilliseconds = "peak_interval_ms"
        case variablesScope = "variables_scope"
    }
}

/// How a step ended.
public enum StepOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every statement succeeded, as expected.
    case ok
    /// The last statement failed with the error the plan expected; the run went on.
    case expectedError = "expected_error"
    /// A statement failed unexpectedly, an expectation was not met, or a shell command failed.
    case failed
    /// The step ran past its `timeout` and was stopped (KILL QUERY).
    case timedOut = "timed_out"
    /// The server died while the step ran.
    case serverDied = "server_died"
    /// Ctrl-C while the step ran.
    case interrupted
    /// The run stopped before this step.
    case notRun = "not_run"

    /// Whether the run goes on after a step with this outcome.
    public var isSuccess: Bool { self == .ok || self == .expectedError }
}

/// An error a step met.
public struct StepError: Sendable, Hashable, Codable {
    /// The server error number, when the error came from the server.
    public var code: UInt32?
    public var sqlState: String?
    public var message: String
    /// The statement that failed.
    public var statement: String?
    /// Whether the plan expected it.
    public var expected: Bool

    public init(code: UInt32? = nil, sqlState: String? = nil, message: String, statement: String? = nil, expected: Bool)
    {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.statement = statement
        self.expected = expected
    }

    enum CodingKeys: String, CodingKey {
        case code, message, statement, expected
        case sqlState = "sql_state"
    }
}
