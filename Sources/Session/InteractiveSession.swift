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
    let engine: SessionEngine
    let live: LiveRun
    let state: InteractiveState
    /// The run directory (absolute path).
    public let runDirectory: String
    /// The loaded plan's steps, which ``runPlanStep(_:)`` runs by label.
    public let planSteps: [Plan.Step]

    init(engine: SessionEngine, live: LiveRun, state: InteractiveState, runDirectory: String, planSteps: [Plan.Step]) {
        self.engine = engine
        self.live = live
        self.state = state
        self.runDirectory = runDirectory
        self.planSteps = planSteps
    }

    var recorder: RunRecorder { engine.recorder }

    /// How ``start(_:)`` went: a live session, or a start that failed and was finalised.
    public enum Start: Sendable {
        case ready(InteractiveSession)
        /// The server could not be started (or attached to); the run directory is finalised and the
        /// result carries the exit status (docs/architecture.md, "Exit codes").
        case failed(SessionResult)
    }

    /// Prepares the run directory and starts (or attaches to) the plan's server; the plan's steps do not
    /// run. `RUN/plan.yaml` is rewritten as steps are done.
    ///
    /// - Throws: ``SessionError`` only for a run directory that cannot be used.
    public static func start(_ options: SessionOptions) async throws(SessionError) -> Start {
        let directory = try RunDirectory.prepare(options.runDirectory)
        let engine = SessionEngine(options: options, directory: directory, effects: options.effects)
        let recorder = engine.recorder
        // Steps are recorded as they are done; budgets of the plan's steps apply only to those run.
        await recorder.resetSteps()
        recorder.log.write("snapctl repl \(options.planSource) -> \(directory.path)")
        let state = InteractiveState(plan: options.plan, recorder: recorder)
        await state.writePerformedPlan(connections: options.plan.connections)
        await recorder.persist()
        recorder.emit(.runDirectory(directory.path))
        if let ending = await engine.start() {
            return .failed(await Task { await engine.finalise(ending) }.value)
        }
        guard let live = await engine.live else {
            let ending = Ending(status: .startFailed, message: "no server", exitCode: 4)
            return .failed(await Task { await engine.finalise(ending) }.value)
        }
        return .ready(
            InteractiveSession(
                engine: engine,
                live: live,
                state: state,
                runDirectory: directory.path,
                planSteps: options.plan.steps
            )
        )
    }

    /// Runs one step as a scripted run does, appends it to the record and remembers it for the saved plan.
    func perform(_ step: Plan.Step) async -> InteractiveStep {
        let planned = StepRecord(
            planned: step,
            index: await recorder.manifest.steps.count + 1,
            connection: await live.executor.declaration(for: step)?.name
        )
        let position = await recorder.appendStep(planned, maxGrowth: step.maxGrowth?.bytes)
        let result = await engine.perform(step, as: planned, at: position, of: planned.index)
        await state.performed(step)
        await recorder.persist()
        return InteractiveStep(
            record: result.record,
            snapshots: result.snapshots,
            result: result.queryResult,
            topSite: result.topSite,
            lenses: result.lenses
        )
    }

    // MARK: Actions

    /// Takes a snapshot as a `snap` step labelled `label` (detailed, or light with `kind: .light`).
    public func snapshot(
        label: String,
        kind: Plan.SnapshotKind = .detailed
    ) async -> Result<
        InteractiveStep, InteractiveError
    > {
        if let death = live.watch.death { return .failure(.serverGone(death)) }
        if let problem = await state.labelProblem(label) { return .failure(.badLabel(problem)) }
        let step = Plan.Step(label: label, kind: .snap, snapshots: .uniform(kind == .light ? .light : .none))
        let done = await perform(step)
        if done.snapshots.isEmpty, let death = live.watch.death { return .failure(.serverGone(death)) }
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
        if let death = live.watch.death { return .failure(.serverGone(death)) }
        let connections = await live.executor.declared
        let name = connection ?? connections.first?.name
        guard let name, connections.contains(where: { $0.name == name }) else {
            return .failure(.unknownConnection(name: connection ?? "", known: connections.map(\.name)))
        }
        let label = await state.freeLabel("sql-\(await recorder.manifest.steps.count + 1)")
        var step = Plan.Step(
            label: label,
            kind: .sql(statements: [statement]),
            snapshots: .uniform(.none),
            connection: name == connections.first?.name ? nil : name
        )
        // A plan's `allocations: true` gives every statement the allocated and churn lenses.
        step.allocations = await engine.plan.allocations
        return .success(await perform(step))
    }

    /// Runs the loaded plan's step `label` with its snapshots, exactly as a session runs it. A step run a
    /// second time is labelled `label-2` (labels name snapshots and must stay unique).
    public func runPlanStep(_ label: String) async -> Result<InteractiveStep, InteractiveError> {
        guard let found = planSteps.first(where: { $0.label == label }) else {
            return .failure(.noSuchStep(label: label, known: planSteps.map(\.label)))
        }
        if let death = live.watch.death { return .failure(.serverGone(death)) }
        var step = found
        step.label = await state.freeLabel(label)
        return .success(await perform(step))
    }

    /// Opens connection `name` as `user` on `database`, and declares it for later statements and the saved
    /// plan. With neither given, a connection the plan declares is opened as declared; else `root`.
    public func connect(name: String, user: String?, database: String?) async -> InteractiveError? {
        let declared = await live.executor.declared.first { $0.name == name }
        var connection = Plan.Connection(name: name, user: user ?? Plan.Connection.defaultUser, database: database)
        if user == nil && database == nil, let declared { connection = declared }
        if let death = live.watch.death { return .serverGone(death) }
        if declared != nil, await live.executor.isOpen(name) { return .connectionExists(name: name) }
        switch await live.executor.declare(connection) {
        case .success:
            recorder.log.write(
                "connection '\(connection.name)' as \(connection.user)"
                    + (connection.database.map { " on database \($0)" } ?? "")
            )
            await recorder.persist()
            return nil
        case .failure(let failure):
            if await live.watch.check(), let death = live.watch.death { return .serverGone(death) }
            return .connectFailed(
                name: connection.name,
                message: failure.execution.error?.message ?? "the connection could not be opened"
            )
        }
    }

    /// Sends a raw monitor command (`v.info stats`, `detailed_snapshot /abs/path`) and returns its output.
    public func monitor(_ command: String) async -> Result<String, InteractiveError> {
        if let death = live.watch.death { return .failure(.serverGone(death)) }
        recorder.log.write("monitor \(command)")
        switch await live.snapshotter.command(command) {
        case .success(let output):
            // A command such as `v.kill` may end the server.
            if await live.watch.check(), let death = live.watch.death { return .failure(.serverGone(death)) }
            return .success(output)
        case .failure(let error):
            if case .processEnded = error {
                if await !live.watch.check() { live.watch.markDead(error.description) }
                return .failure(.serverGone(live.watch.death ?? error.description))
            }
            return .failure(.monitorFailed(error.description))
        }
    }

    /// Reads `Memory_used`, the process list's `MEMORY_USED` and whatever else the plan observes.
    public func counters() async -> Result<ServerCounters, InteractiveError> {
        if let death = live.watch.death { return .failure(.serverGone(death)) }
        var observables = live.snapshotter.observe
        for wanted in [Plan.Observable.memoryUsed, .processlist] where !observables.contains(wanted) {
            observables.append(wanted)
        }
        guard let counters = await live.snapshotter.readCounters(observables) else {
            return .failure(.countersFailed("no observer connection"))
        }
        if counters.memoryUsed == nil && counters.processlist == nil, let problem = counters.error {
            if await live.watch.check(), let death = live.watch.death { return .failure(.serverGone(death)) }
            return .failure(.countersFailed(problem))
        }
        return .success(counters)
    }

    // MARK: What has been recorded

    /// The manifest as it stands.
    public var manifest: RunManifest {
        get async { await recorder.manifest }
    }

    /// The declared connections, the first being the default.
    public var connections: [Plan.Connection] {
        get async { await live.executor.declared }
    }

    /// The parsed snapshot (with its heap tree when detailed) of snapshot `id`.
    public func snapshotTree(id: Int) async -> Massif.Snapshot? {
        await recorder.tree(id: id)
    }

    /// What the steps between snapshots `before` and `after` allocated (their allocated lenses added up),
    /// as a report step with the allocated and churn lenses; `nil` when none of them had the lens.
    public func allocated(from before: SnapshotRecord, to after: SnapshotRecord) async -> (StepReport, steps: Int)? {
        let manifest = await recorder.manifest
        guard let first = manifest.steps.firstIndex(where: { $0.label == before.step }),
            let last = manifest.steps.firstIndex(where: { $0.label == after.step })
        else { return nil }
        // A step's work lies between its before and after snapshots.
        let start = before.phase == .before ? first : first + 1
        let end = after.phase == .before ? last - 1 : last
        guard start <= end else { return nil }
        var dumps: [XTreeDump] = []
        for step in manifest.steps[start...end] {
            if let file = step.lenses?.allocations, let dump = await recorder.xtree(file) { dumps.append(dump) }
        }
        guard let sum = TransientLenses.adding(dumps),
            let allocations = TransientLenses.allocations(during: sum)
        else { return nil }
        var report = StepReport(index: 0, label: "\(before.label)..\(after.label)", kind: .sql, outcome: .ok)
        report.allocatedBytes = allocations.bytes
        report.allocationCalls = allocations.calls
        report.allocated = allocations.allocated
        report.churn = allocations.churn
        let findings = TransientLenses.findings(lens: "allocated", sizing: allocations.sizing, values: nil)
        report.sizing = findings.isEmpty ? nil : findings
        return (report, dumps.count)
    }

    /// The report of the run so far.
    public func report() async -> RunReport {
        await recorder.loaded().report()
    }

    /// What was done as a plan, and the labels of steps left out of it (see ``InteractiveError``).
    public func performedPlan() async -> (plan: Plan, leftOut: [String]) {
        await state.performedPlan(connections: await live.executor.declared)
    }

    /// Why the server is gone, once it is.
    public var serverDeath: String? {
        get async { live.watch.death }
    }

    /// Waits until the server dies and returns why; `nil` when the run finishes first.
    public func waitForServerDeath() async -> String? {
        await live.watch.waitForDeath()
    }

    // MARK: Ending

    /// Ends the run as a session ends: the final snapshot (when the server is alive), `plan.yaml` with
    /// what was done, then the server shut down (a managed one), timeline, reports and SHA256SUMS.
    ///
    /// - Parameter interrupted: a signal ended the run (status `interrupted`, exit 130).
    public func finish(interrupted: Bool = false) async -> SessionResult {
        let (engine, live, state) = (self.engine, self.live, self.state)
        // In a task of its own, so that a cancelled caller still gets a complete record and a stopped server.
        return await Task {
            live.watch.finish()
            var ending: Ending
            let died = await live.watch.check()
            if interrupted {
                ending = Ending(status: .interrupted, message: "interrupted (SIGTERM or SIGHUP)")
            } else if died {
                ending = Ending(status: .serverDied, message: live.watch.death ?? "the server died")
            } else {
                _ = await live.snapshotter.take(step: "end", phase: .final, round: nil, kind: .detailed)
                ending = Ending(status: .completed)
                if let death = live.watch.death { ending = Ending(status: .serverDied, message: death) }
            }
            await state.writePerformedPlan(connections: await live.executor.declared)
            return await engine.finalise(ending)
        }.value
    }
}

/// What only an interactive run keeps: the steps it performed (what `save-plan` writes) and the rules
/// for the labels of new steps.
actor InteractiveState {
    /// The loaded plan: its setup goes into the saved plan.
    let loaded: Plan
    private var performedSteps: [Plan.Step] = []
    let recorder: RunRecorder

    init(plan: Plan, recorder: RunRecorder) {
        self.loaded = plan
        self.recorder = recorder
    }

    func performed(_ step: Plan.Step) { performedSteps.append(step) }

    /// Why `label` cannot name a new step, or `nil` when it can.
    ///
    /// Labels name snapshots (`diff before-x after-x`) and files, so a new label must not be taken by a
    /// step or a snapshot, nor make snapshot labels that are (`x` makes `before-x` and `after-x`).
    func labelProblem(_ label: String) async -> String? {
        Self.labelProblem(label, taken: Self.takenLabels(await recorder.manifest))
    }

    static func labelProblem(_ label: String, taken: Set<String>) -> String? {
        if label.isEmpty { return "a label cannot be empty" }
        let replaced = SnapshotLabel.replacedCharacters(in: label)
        if !replaced.isEmpty {
            let shown = replaced.map { "'\($0)'" }.joined(separator: ", ")
            return "label '\(label)' has characters a file name cannot have (\(shown)); "
                + "use letters, digits, '.', '_' and '-'"
        }
        for candidate in [label, "before-" + label, "after-" + label] where taken.contains(candidate) {
            return candidate == label
                ? "label '\(label)' is already used; choose another (`snaps` lists the labels)"
                : "label '\(label)' would make the snapshot label '\(candidate)', which is already used; choose another"
        }
        return nil
    }

    /// Every label a new step must not reuse: steps, snapshots, and the final snapshot's.
    static func takenLabels(_ manifest: RunManifest) -> Set<String> {
        var taken: Set<String> = ["end", "final"]
        for step in manifest.steps { taken.insert(step.label) }
        for snapshot in manifest.snapshots { taken.insert(snapshot.label) }
        return taken
    }

    /// `base` when it is free, else `base-2`, `base-3`, ...
    func freeLabel(_ base: String) async -> String {
        let taken = Self.takenLabels(await recorder.manifest)
        if Self.labelProblem(base, taken: taken) == nil { return base }
        var number = 2
        while Self.labelProblem("\(base)-\(number)", taken: taken) != nil { number += 1 }
        return "\(base)-\(number)"
    }

    /// What was done, as a plan `snapctl session` replays: the loaded plan's setup and connections (with
    /// those opened since), and the performed steps that can be replayed. A statement that failed with a
    /// server error is kept with `expect: {error: CODE}`; steps that were interrupted, timed out, failed
    /// otherwise or met a dead server are left out and named.
    func performedPlan(connections: [Plan.Connection]) async -> (plan: Plan, leftOut: [String]) {
        var plan = loaded
        plan.connections = connections
        return Self.performedPlan(plan, steps: performedSteps, records: await recorder.manifest.steps)
    }

    static func performedPlan(
        _ loaded: Plan,
        steps: [Plan.Step],
        records: [StepRecord]
    ) -> (
        plan: Plan, leftOut: [String]
    ) {
        var plan = loaded
        plan.steps = []
        var leftOut: [String] = []
        for (step, record) in zip(steps, records) {
            switch record.outcome {
            case .ok, .expectedError:
                plan.steps.append(step)
            case .failed:
                if case .sql = step.kind, step.expect == nil, let code = record.error?.code, code > 0 {
                    var expecting = step
                    expecting.expect = Plan.Expectation(error: .code(Int(code)))
                    plan.steps.append(expecting)
                } else {
                    leftOut.append(record.label)
                }
            case .timedOut, .serverDied, .interrupted, .notRun:
                leftOut.append(record.label)
            }
        }
        return (plan.inliningSQLFiles(), leftOut)
    }

    /// Writes what was done to `RUN/plan.yaml`, so that the run can be bundled and replayed.
    func writePerformedPlan(connections: [Plan.Connection]) async {
        do {
            let text = try await performedPlan(connections: connections).plan.yaml()
            if let problem = recorder.directory.write(RunLayout.planFile, text: text) { await recorder.warn(problem) }
        } catch {
            await recorder.warn("\(RunLayout.planFile) could not be written: \(error)")
        }
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
    /// The step's transient-memory lenses, when it had any (a plan with `allocations: true`).
    public var lenses: StepReport?
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
