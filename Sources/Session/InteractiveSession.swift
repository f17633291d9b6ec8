import Massif
import MySQLServer
import Plan
import Report
import RunRecord

/// A run driven one action at a time (`snapctl repl`): the server starts as for `snapctl session`, and
/// every snapshot, statement and plan step is recorded in the same manifest a session writes, so the run
/// directory can be reported, bundled and replayed.
///
/// Calls are made one at a time by one caller. Cancelling the calling task stops a running statement with
/// `KILL QUERY` through the observer connection, as Ctrl-C does in a session; the run goes on.
public final class InteractiveSession: Sendable {
    let runner: SessionRunner
    /// The run directory (absolute path).
    public let runDirectory: String
    /// The loaded plan's steps, which ``runPlanStep(_:)`` runs by label.
    public let planSteps: [Plan.Step]

    init(runner: SessionRunner, runDirectory: String, planSteps: [Plan.Step]) {
        self.runner = runner
        self.runDirectory = runDirectory
        self.planSteps = planSteps
    }

    /// How ``start(_:)`` went: a live session, or a start that failed and was finalised.
    public enum Start: Sendable {
        case ready(InteractiveSession)
        /// The server could not be started (or attached to); the run directory is finalised and the
        /// result carries the exit status (DESIGN.md, "Exit codes").
        case failed(SessionResult)
    }

    /// Prepares the run directory and starts (or attaches to) the plan's server; the plan's steps do not
    /// run. `RUN/plan.yaml` is rewritten as steps are done.
    ///
    /// - Throws: ``SessionError`` only for a run directory that cannot be used.
    public static func start(_ options: SessionOptions) async throws(SessionError) -> Start {
        let directory = try RunDirectory.prepare(options.runDirectory)
        let runner = SessionRunner(options: options, directory: directory)
        if let ending = await runner.startInteractive() {
            return .failed(await Task { await runner.finalise(ending) }.value)
        }
        return .ready(InteractiveSession(runner: runner, runDirectory: directory.path, planSteps: options.plan.steps))
    }

    // MARK: Actions

    /// Takes a snapshot as a `snap` step labelled `label` (detailed, or light with `kind: .light`).
    public func snapshot(
        label: String,
        kind: Plan.SnapshotKind = .detailed
    ) async -> Result<
        InteractiveStep, InteractiveError
    > {
        if let death = await runner.serverDeath { return .failure(.serverGone(death)) }
        if let problem = await runner.labelProblem(label) { return .failure(.badLabel(problem)) }
        let step = Plan.Step(label: label, kind: .snap, snapshots: .uniform(kind == .light ? .light : .none))
        let done = await runner.runInteractive(step)
        if done.snapshots.isEmpty, let death = await runner.serverDeath { return .failure(.serverGone(death)) }
        return .success(done)
    }

    /// Runs one statement on connection `connection` (the plan's first connection when `nil`) as a `sql`
    /// step labelled `sql-N` (N its step number) without snapshots of its own.
    ///
    /// A failing statement is a step with outcome `failed` and its error; the run goes on.
    public func execute(
        _ statement: String,
        connection: String? = nil
    ) async -> Result<
        InteractiveStep, InteractiveError
    > {
        if let death = await runner.serverDeath { return .failure(.serverGone(death)) }
        let plan = await runner.plan
        let name = connection ?? plan.connections.first?.name
        guard let name, plan.connections.contains(where: { $0.name == name }) else {
            return .failure(.unknownConnection(name: connection ?? "", known: plan.connections.map(\.name)))
        }
        let label = await runner.freeLabel("sql-\(await runner.manifest.steps.count + 1)")
        let step = Plan.Step(
            label: label,
            kind: .sql(statements: [statement]),
            snapshots: .uniform(.none),
            connection: name == plan.connections.first?.name ? nil : name
        )
        return .success(await runner.runInteractive(step))
    }

    /// Runs the loaded plan's step `label` with its snapshots, exactly as a session runs it. A step run a
    /// second time is labelled `label-2` (labels name snapshots and must stay unique).
    public func runPlanStep(_ label: String) async -> Result<InteractiveStep, InteractiveError> {
        guard let found = planSteps.first(where: { $0.label == label }) else {
            return .failure(.noSuchStep(label: label, known: planSteps.map(\.label)))
        }
        if let death = await runner.serverDeath { return .failure(.serverGone(death)) }
        var step = found
        step.label = await runner.freeLabel(label)
        return .success(await runner.runInteractive(step))
    }

    /// Opens connection `name` as `user` on `database`, and declares it for later statements and the saved
    /// plan. With neither given, a connection the plan declares is opened as declared; else `root`.
    public func connect(name: String, user: String?, database: String?) async -> InteractiveError? {
        let declared = await runner.plan.connections.first { $0.name == name }
        var connection = Plan.Connection(name: name, user: user ?? Plan.Connection.defaultUser, database: database)
        if user == nil && database == nil, let declared { connection = declared }
        return await runner.declareConnection(connection)
    }

    /// Sends a raw monitor command (`v.info stats`, `detailed_snapshot /abs/path`) and returns its output.
    public func monitor(_ command: String) async -> Result<String, InteractiveError> {
        await runner.monitorCommand(command)
    }

    /// Reads `Memory_used`, the process list's `MEMORY_USED` and whatever else the plan observes.
    public func counters() async -> Result<ServerCounters, InteractiveError> {
        await runner.interactiveCounters()
    }

    // MARK: What has been recorded

    /// The manifest as it stands.
    public var manifest: RunManifest {
        get async { await runner.manifest }
    }

    /// The declared connections, the first being the default.
    public var connections: [Plan.Connection] {
        get async { await runner.plan.connections }
    }

    /// The parsed snapshot (with its heap tree when detailed) of snapshot `id`.
    public func snapshotTree(id: Int) async -> Massif.Snapshot? {
        await runner.snapshotTree(id: id)
    }

    /// The report of the run so far.
    public func report() async -> RunReport {
        await runner.currentReport()
    }

    /// What was done as a plan, and the labels of steps left out of it (see ``InteractiveError``).
    public func performedPlan() async -> (plan: Plan, leftOut: [String]) {
        await runner.performedPlan()
    }

    /// Why the server is gone, once it is.
    public var serverDeath: String? {
        get async { await runner.serverDeath }
    }

    /// Waits until the server dies and returns why; `nil` when the run finishes first.
    public func waitForServerDeath() async -> String? {
        await runner.watchForDeath()
    }

    // MARK: Ending

    /// Ends the run as a session ends: the final snapshot (when the server is alive), `plan.yaml` with
    /// what was done, then the server shut down (a managed one), timeline, reports and SHA256SUMS.
    ///
    /// - Parameter interrupted: a signal ended the run (status `interrupted`, exit 130).
    public func finish(interrupted: Bool = false) async -> SessionResult {
        let runner = self.runner
        // In a task of its own, so that a cancelled caller still gets a complete record and a stopped server.
        return await Task {
            let ending = await runner.finishInteractive(interrupted: interrupted)
            return await runner.finalise(ending)
        }.value
    }
}

/// One interactive action as recorded: its step, the snapshots it took, and what its statement returned.
public struct InteractiveStep: Sendable {
    /// The step's record in the manifest.
    public var record: StepRecord
    /// The snapshots the step took, in order.
    public var snapshots: [SnapshotRecord]
    /// What the step's last statement returned (rows, or counts without a result set).
    public var result: QueryResult?
    /// The call path that grew most from the step's before snapshot to its after snapshot.
    public var topSite: Site?
}

/// Why an interactive action was refused or failed; the run goes on.
public enum InteractiveError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server is gone: the report of its death.
    case serverGone(String)
    /// The label cannot be used; the message says why.
    case badLabel(String)
    /// The loaded plan has no step with this label.
    case noSuchStep(label: String, known: [String])
    /// No connection with this name is declared.
    case unknownConnection(name: String, known: [String])
    /// A connection with this name is already open.
    case connectionExists(name: String)
    /// The connection could not be opened.
    case connectFailed(name: String, message: String)
    /// The monitor command could not be sent.
    case monitorFailed(String)
    /// The counters could not be read.
    case countersFailed(String)

    public var description: String {
        switch self {
        case .serverGone(let death):
            return "the server is gone (\(death)); `report` shows what was recorded, `quit` ends"
        case .badLabel(let message):
            return message
        case .noSuchStep(let label, let known):
            if known.isEmpty {
                return "no plan step '\(label)': no plan with steps was loaded (snapctl repl PLAN.yaml loads one)"
            }
            return "no plan step '\(label)'; the plan's steps are " + known.map { "'\($0)'" }.joined(separator: ", ")
        case .unknownConnection(let name, let known):
            return "no connection '\(name)'; the connections are " + known.map { "'\($0)'" }.joined(separator: ", ")
                + " (connect NAME [USER@DB] opens another)"
        case .connectionExists(let name):
            return "connection '\(name)' is already open; `use \(name)` switches to it"
        case .connectFailed(let name, let message):
            return "connection '\(name)' could not be opened: \(message)"
        case .monitorFailed(let message):
            return "the monitor command failed: \(message)"
        case .countersFailed(let message):
            return "the counters could not be read: \(message)"
        }
    }
}
