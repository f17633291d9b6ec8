import MySQLServer
import Plan
import Report
import RunRecord

/// What to run and where: the input of ``Session/run(_:)``.
public struct SessionOptions: Sendable {
    /// The loaded plan (sql_file statements resolved).
    public var plan: Plan
    /// The plan file's text, copied to `RUN/plan.yaml` as it was given.
    public var planText: String
    /// The plan file as named on the command line.
    public var planSource: String
    /// The run directory itself (created if missing; must not hold a run already).
    public var runDirectory: String
    /// snapctl's version, for the manifest.
    public var toolVersion: String
    /// snapctl's command line, for the manifest.
    public var arguments: [String]
    /// A `PATH` to search for valgrind and the server instead of the process's own.
    public var searchPath: String?
    /// Environment for `password_env` lookups and shell steps; the process's own when `nil`.
    public var environment: [String: String]?
    /// Called with progress events; must return quickly.
    public var events: @Sendable (SessionEvent) -> Void
    /// How the server is started and the monitor opened: the real ones, or fakes in unit tests.
    var effects: SessionEffects = .live

    public init(
        plan: Plan,
        planText: String,
        planSource: String,
        runDirectory: String,
        toolVersion: String = SnapctlVersion.current,
        arguments: [String] = [],
        searchPath: String? = nil,
        environment: [String: String]? = nil,
        events: @escaping @Sendable (SessionEvent) -> Void = { _ in }
    ) {
        self.plan = plan
        self.planText = planText
        self.planSource = planSource
        self.runDirectory = runDirectory
        self.toolVersion = toolVersion
        self.arguments = arguments
        self.searchPath = searchPath
        self.environment = environment
        self.events = events
    }
}

/// What a session is doing, for the CLI to render; the Session module assumes no terminal.
public enum SessionEvent: Sendable {
    /// The run directory is ready (absolute path).
    case runDirectory(String)
    /// The server is starting.
    case launch(LaunchProgress)
    /// The server is up and the monitor connection is open.
    case serverReady(pid: Int32, version: String, seconds: Double)
    /// A profiled replica's primary is up (or reached, when attached); replication starts next.
    case primaryReady(RunManifest.PrimaryInfo)
    /// A step starts.
    case stepStarted(index: Int, count: Int, label: String)
    /// A snapshot was taken.
    case snapshot(SnapshotRecord)
    /// A step ended: its record, the totals at its ends, the largest total its `during` snapshots saw,
    /// and the call path that grew most.
    case stepFinished(StepRecord, before: Int?, after: Int?, peak: Int?, topSite: Site?)
    /// The transient-memory lenses of the step just finished (allocated, churn, peak), when it asked for any.
    case stepLenses(StepReport)
    /// Something went wrong that did not stop the run.
    case warning(String)
    /// Finalising: shutting down, merging, writing reports.
    case finalising(String)
}

/// What a session produced.
public struct SessionResult: Sendable {
    /// The run directory (absolute path).
    public var runDirectory: String
    /// The manifest as written.
    public var manifest: RunManifest
    /// The report as written.
    public var report: RunReport
    /// The exit status for the process (docs/architecture.md, "Exit codes").
    public var exitCode: Int32
}
