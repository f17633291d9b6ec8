import Foundation
import Massif
import MySQLServer
import Plan
import Report
import RunRecord

/// What one step did: its record as it goes into the manifest, the snapshots it took, and what its
/// last statement returned.
struct StepResult: Sendable {
    var record: StepRecord
    /// The snapshots the step took (before, during, after, its own), in order.
    var snapshots: [SnapshotRecord]
    /// What the step's last statement returned (rows, or counts without a result set).
    var queryResult: QueryResult?
    /// The total at the step's start and end, and the largest its `during` snapshots saw.
    var before: Int?
    var after: Int?
    var peak: Int?
    /// The call path that grew most from the step's before snapshot to its after snapshot.
    var topSite: Site?
    /// The step's transient-memory lenses (allocated, churn, peak), when it asked for any.
    var lenses: StepReport?

    var outcome: StepOutcome { record.outcome }
}

/// What a step's lenses gathered while it ran: the xtree dumps around its work and what went wrong.
struct LensRun: Sendable {
    var wantsAllocations: Bool
    var wantsPeak: Bool
    var before: Snapshotter.XTreeTaken?
    var after: Snapshotter.XTreeTaken?
    var problems: [String] = []

    init(step: Plan.Step) {
        wantsAllocations = step.allocations
        wantsPeak = step.snapshots.peak
    }

    var isWanted: Bool { wantsAllocations || wantsPeak }

    mutating func dumped(_ result: Result<Snapshotter.XTreeTaken, LensProblem>, phase: SnapshotPhase) {
        switch result {
        case .success(let taken):
            if phase == .before { before = taken } else { after = taken }
        case .failure(let problem):
            problems.append(problem.message)
        }
    }
}

/// Runs steps: a step's snapshots around its work, its rounds, its timeout and `during` timer, and the
/// outcome rules. One step reads top to bottom in ``run(_:as:)``; what a step kind does is in
/// ``execute(_:index:deadline:)`` and the files beside this one.
///
/// Owns the connections steps run on (opened on first use, since a step's database may be created by an
/// earlier step) and the list of declared connections (an interactive run declares more).
actor StepExecutor {
    let server: any ProfiledServer
    let watch: ServerWatch
    let snapshotter: Snapshotter
    let recorder: RunRecorder
    /// For `password_env` and shell steps; the process's own when `nil`.
    let environment: [String: String]?
    /// The declared connections, the first being the default.
    private(set) var declared: [Plan.Connection]
    private var open: [String: any SQLSession] = [:]
    /// Replication from the primary, when the profiled server is a replica (set once it has started).
    private(set) var replication: Replication?

    init(
        server: any ProfiledServer,
        watch: ServerWatch,
        snapshotter: Snapshotter,
        recorder: RunRecorder,
        connections: [Plan.Connection],
        environment: [String: String]?
    ) {
        self.server = server
        self.watch = watch
        self.snapshotter = snapshotter
        self.recorder = recorder
        self.declared = connections
        self.environment = environment
    }

    /// Sets the replication that steps on the primary wait for.
    func setReplication(_ replication: Replication) { self.replication = replication }

    /// Waits for the replica after a round of a step on the primary; a failed execution when it did not
    /// catch up (the replica's state goes into `record`).
    private func catchUp(after step: Plan.Step, record: inout StepRecord) async -> Execution? {
        guard step.on == .primary, let replication else { return nil }
        do throws(Replication.Failure) {
            let state = try await replication.catchUp(timeout: step.catchUpTimeout ?? replication.catchUpTimeout)
            record.replica = state
            if let seconds = state.catchUpSeconds {
                recorder.log.write(
                    "step \(record.index) '\(step.label)': the replica caught up with \(state.primaryPosition ?? "") in "
                        + "\(ReplicaRules.decimal(seconds)) s"
                )
            }
            return nil
        } catch {
            record.replica = error.state
            return Execution(
                outcome: error.interrupted ? .interrupted : .failed,
                error: StepError(message: error.message, expected: false)
            )
        }
    }

    /// Runs `step` with its snapshots; `planned` is its record before it ran.
    func run(_ step: Plan.Step, as planned: StepRecord) async -> StepResult {
        let firstSnapshot = await recorder.upcomingSnapshotID
        var record = planned
        if case .snap = step.kind {
            // `{snap: LABEL, snapshots: light}` takes a light one; every other snap step a detailed one.
            let kind: SnapshotKind = step.snapshots.after == .light ? .light : .detailed
            let taken = await snapshotter.take(step: step.label, phase: .snap, round: nil, kind: kind)
            record.start = recorder.elapsed()
            record.duration = 0
            record.rounds = 1
            record.outcome = taken == nil && watch.death != nil ? .serverDied : .ok
            if taken == nil && watch.death == nil {
                record.error = StepError(message: "the snapshot could not be taken", expected: false)
            }
            return StepResult(
                record: record,
                snapshots: taken.map { [$0] } ?? [],
                before: taken?.totalBytes,
                after: taken?.totalBytes
            )
        }

        let before = await snapshotter.take(
            step: step.label,
            phase: .before,
            round: nil,
            planned: step.snapshots.before
        )
        if let death = watch.death {
            record.outcome = .serverDied
            record.error = StepError(message: death, expected: false)
            return await result(record, from: firstSnapshot, before: before, after: nil, query: nil)
        }
        var lenses = LensRun(step: step)
        if step.allocations {
            lenses.dumped(
                await snapshotter.dumpXTree(step: step.label, index: record.index, phase: .before),
                phase: .before
            )
        }
        let stepStart = ContinuousClock.now
        record.start = recorder.elapsed()
        let deadline = step.timeout.map { stepStart + $0.duration }

        var timer: Task<Void, Never>?
        if let interval = step.snapshots.during, interval.milliseconds > 0 {
            timer = snapshotter.startDuringTimer(
                label: step.label,
                interval: interval.duration,
                kind: step.snapshots.peak ? .detailed : .light
            )
        }
        var work = Duration.zero
        var execution = Execution()
        let rounds = step.repeat
        var after: SnapshotRecord?
        for round in 1...max(1, rounds) {
            if Task.isCancelled {
                execution.outcome = .interrupted
                break
            }
            let roundStart = ContinuousClock.now
            execution = await execute(step, index: record.index, deadline: deadline)
            work += ContinuousClock.now - roundStart
            record.rounds = round
            // What the step wrote on the primary reaches the replica before the round's snapshot; a step
            // that failed on the primary may still have written something.
            if execution.outcome == .ok || execution.outcome == .expectedError || execution.outcome == .failed,
                let failure = await catchUp(after: step, record: &record), execution.outcome.isSuccess
            {
                execution = failure
            }
            guard execution.outcome.isSuccess else { break }
            if rounds > 1 {
                // Each round is snapshotted: the leak check compares them. The timer stays on.
                after =
                    await snapshotter.take(step: step.label, phase: .after, round: round, planned: step.snapshots.after)
                    ?? after
            }
        }
        if let timer {
            timer.cancel()
            await timer.value
        }
        if execution.outcome == .failed || execution.outcome == .timedOut, watch.death == nil {
            _ = await watch.check()
        }
        execution = StepRules.settle(execution, death: watch.death)
        // The after dump comes before the after snapshot's counter read, whose queries allocate too.
        if step.allocations, lenses.before != nil, execution.outcome != .interrupted {
            if watch.death != nil {
                lenses.problems.append(
                    "the server died between the two xtree dumps: the allocated lens of '\(step.label)' is missing"
                )
            } else {
                lenses.dumped(
                    await snapshotter.dumpXTree(step: step.label, index: record.index, phase: .after),
                    phase: .after
                )
            }
        }
        record.duration = work.seconds
        record.rows = execution.rows
        record.warnings = execution.warnings
        record.error = execution.error
        record.exitStatus = execution.exitStatus
        record.outcome = execution.outcome

        // The after snapshot is taken after a failure too (the heap the failure left is part of the
        // answer), but not once the server is gone or the user asked to stop.
        if rounds <= 1, execution.outcome != .serverDied, execution.outcome != .interrupted {
            after = await snapshotter.take(step: step.label, phase: .after, round: nil, planned: step.snapshots.after)
        }
        // The replica's state after every step (read after the snapshot, so that its query is not in it);
        // a step on the primary recorded it when the replica caught up.
        if let replication, record.replica == nil, execution.outcome != .serverDied {
            record.replica = try? await replication.readState()
        }
        if lenses.isWanted {
            record.lenses = await lensRecord(
                lenses,
                step: step,
                index: record.index,
                firstSnapshot: firstSnapshot,
                before: before
            )
        }
        return await result(record, from: firstSnapshot, before: before, after: after, query: execution.result)
    }

    /// The record of a step's lenses: the dumps, the peak's interval, and the values of the server variables
    /// that size the code the lenses found (read on the step's connection, so session values count).
    private func lensRecord(
        _ lenses: LensRun,
        step: Plan.Step,
        index: Int,
        firstSnapshot: Int,
        before: SnapshotRecord?
    ) async -> StepLenses {
        var problems = lenses.problems
        var allocations: String?
        if let before = lenses.before?.dump, let after = lenses.after?.dump {
            switch await snapshotter.recordAllocations(before: before, after: after, step: step.label, index: index) {
            case .success(let file): allocations = file
            case .failure(let problem): problems.append(problem.message)
            }
        }
        var record = StepLenses(
            allocations: allocations,
            dumpMilliseconds: [lenses.before, lenses.after].compactMap { $0?.milliseconds },
            peakIntervalMilliseconds: step.snapshots.peak
                ? step.snapshots.during.map { Int(clamping: $0.milliseconds) } : nil,
            problems: problems.isEmpty ? nil : problems
        )
        for problem in problems { await recorder.warn("step '\(step.label)': \(problem)") }
        guard watch.death == nil else { return record }
        // Which variables to read: those of the rules the lenses match, from the same computation the report makes.
        var names: Set<String> = []
        if let allocations, let dump = await recorder.xtree(allocations),
            let allocations = TransientLenses.allocations(during: dump)
        {
            for entry in allocations.sizing.prefix(3) { names.formUnion(entry.rule.variables) }
        }
        if step.snapshots.peak, let before, let old = await recorder.tree(id: before.id) {
            let samples = await recorder.snapshots(from: firstSnapshot).filter {
                $0.step == step.label && $0.phase == .during && $0.kind == .detailed
            }
            if let tallest = samples.max(by: { $0.totalBytes < $1.totalBytes }),
                let peak = await recorder.tree(id: tallest.id)
            {
                for entry in TransientLenses.peak(before: old, peak: peak).sizing.prefix(3) {
                    names.formUnion(entry.rule.variables)
                }
            }
        }
        guard !names.isEmpty else { return record }
        names.insert("max_connections")
        var session: (any SQLSession)?
        switch step.kind {
        case .sql, .sqlFile:
            if case .success(let connection) = await connection(for: step) { session = connection }
        default: break
        }
        record.variablesScope = session == nil ? "global" : "session"
        record.variables = await Self.readVariables(names.sorted(), on: session ?? snapshotter.observer)
        return record
    }

    /// `SELECT @@NAME` for each name: the session value where the variable has one, else the global one.
    /// Variables the server does not have are left out.
    static func readVariables(_ names: [String], on session: any SQLSession) async -> [String: Int64] {
        var values: [String: Int64] = [:]
        for name in names where name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            do throws(ServerError) {
                let result = try await session.execute("SELECT @@\(name)")
                if let text = result.rows.first?.first ?? nil, let value = Int64(text) { values[name] = value }
            } catch {
                continue
            }
        }
        return values
    }

    /// The step's result: its snapshots, totals and top growing site.
    private func result(
        _ record: StepRecord,
        from firstSnapshot: Int,
        before: SnapshotRecord?,
        after: SnapshotRecord?,
        query: QueryResult?
    ) async -> StepResult {
        let taken = await recorder.snapshots(from: firstSnapshot).filter { $0.step == record.label }
        var top: Site?
        if let before, let after, let old = await recorder.tree(id: before.id),
            let new = await recorder.tree(id: after.id)
        {
            top = RunReport.growingSites(before: old, after: new, limit: 1).first
        }
        var lenses: StepReport?
        if let lensRecord = record.lenses {
            var trees: [Int: Massif.Snapshot] = [:]
            for snapshot in taken
            where snapshot.phase == .before || snapshot.kind == .detailed && snapshot.phase == .during {
                trees[snapshot.id] = await recorder.tree(id: snapshot.id)
            }
            var xtrees: [String: XTreeDump] = [:]
            if let file = lensRecord.allocations { xtrees[file] = await recorder.xtree(file) }
            lenses = RunReport.stepLenses(record, taken: taken, snapshots: trees, xtrees: xtrees)
        }
        return StepResult(
            record: record,
            snapshots: taken,
            queryResult: query,
            before: before?.totalBytes,
            after: after?.totalBytes,
            peak: taken.filter { $0.phase == .during }.map(\.totalBytes).max(),
            topSite: top,
            lenses: lenses
        )
    }

    /// Runs one round of a step's work.
    func execute(_ step: Plan.Step, index: Int, deadline: ContinuousClock.Instant?) async -> Execution {
        switch step.kind {
        case .snap:
            return Execution()
        case .sleep(let duration):
            do {
                try await Task.sleep(for: duration.duration)
                return Execution()
            } catch {
                return Execution(outcome: .interrupted)
            }
        case .shell(let command):
            return await ShellStep(
                command: command,
                index: index,
                label: step.label,
                server: server,
                watch: watch,
                runDirectory: recorder.directory,
                environment: environment
            ).run(deadline: deadline)
        case .sql, .sqlFile:
            switch await connection(for: step) {
            case .success(let connection):
                return await runStatements(
                    step.statements,
                    on: connection,
                    expect: step.expect,
                    deadline: deadline,
                    primary: step.on == .primary ? replication : nil
                )
            case .failure(let failure):
                return failure.execution
            }
        case .parallel(let parallel):
            return await runParallel(step, parallel: parallel, deadline: deadline)
        }
    }

    // MARK: Connections

    /// An `Execution` carried as an error.
    struct ExecutionFailure: Error {
        var execution: Execution
        init(_ execution: Execution) { self.execution = execution }

        init(_ message: String) {
            self.execution = Execution(outcome: .failed, error: StepError(message: message, expected: false))
        }
    }

    /// The declared connection a step runs on: its own, or the first.
    func declaration(for step: Plan.Step) -> Plan.Connection? {
        guard let name = step.connection else { return declared.first }
        return declared.first { $0.name == name }
    }

    /// The step's connection, opened on first use.
    func connection(for step: Plan.Step) async -> Result<any SQLSession, ExecutionFailure> {
        guard let declaration = declaration(for: step) else {
            return .failure(ExecutionFailure("no connection is declared"))
        }
        // The same declaration opens one connection on each server.
        let key = step.on == .primary ? "primary/" + declaration.name : declaration.name
        if let existing = open[key] { return .success(existing) }
        let opened = await openConnection(declaration, name: declaration.name, on: step.on)
        if case .success(let connection) = opened { open[key] = connection }
        return opened
    }

    /// Opens a connection as declared, on the profiled server or the primary; the plan's default user
    /// stands for an attached server's own.
    func openConnection(
        _ declaration: Plan.Connection,
        name: String,
        on target: Plan.StepServer = .server
    ) async -> Result<any SQLSession, ExecutionFailure> {
        if target == .primary {
            return await openPrimaryConnection(declaration, name: name)
        }
        var user = declaration.user
        var password: String?
        if let variable = declaration.passwordEnv {
            guard let value = ServerProfiles.environmentValue(variable, in: environment) else {
                return .failure(
                    ExecutionFailure(
                        "connection '\(declaration.name)': environment variable \(variable) (password_env) is not set; export it"
                    )
                )
            }
            password = value
        } else if declaration.user == Plan.Connection.defaultUser, let credentials = server.defaultCredentials {
            user = credentials.user
            password = credentials.password
        }
        do throws(ServerError) {
            return .success(
                try await server.connect(name: name, user: user, password: password, database: declaration.database)
            )
        } catch {
            let explained = await server.explain(error)
            return .failure(ExecutionFailure(StepRules.failure(explained, statement: nil, expected: false)))
        }
    }

    /// A connection to the primary, for a step with `on: primary`.
    private func openPrimaryConnection(
        _ declaration: Plan.Connection,
        name: String
    ) async -> Result<any SQLSession, ExecutionFailure> {
        guard let primary = replication?.primary else {
            return .failure(ExecutionFailure("the step runs on the primary, but the run has no primary"))
        }
        var user = declaration.user
        var password: String?
        if let variable = declaration.passwordEnv {
            guard let value = ServerProfiles.environmentValue(variable, in: environment) else {
                return .failure(
                    ExecutionFailure(
                        "connection '\(declaration.name)': environment variable \(variable) (password_env) is not set; export it"
                    )
                )
            }
            password = value
        } else if declaration.user == Plan.Connection.defaultUser, let credentials = primary.defaultCredentials {
            user = credentials.user
            password = credentials.password
        }
        do throws(ServerError) {
            return .success(
                try await primary.connect(
                    name: "primary-" + name,
                    user: user,
                    password: password,
                    database: declaration.database
                )
            )
        } catch {
            let explained = await primary.explain(error)
            var failure = StepRules.failure(explained, statement: nil, expected: false)
            let message = failure.error?.message ?? ""
            failure.error?.message = "on the primary: " + message
            return .failure(ExecutionFailure(failure))
        }
    }

    /// Opens a connection and declares it, so that later steps (and a saved plan) can name it.
    func declare(_ connection: Plan.Connection) async -> Result<Void, ExecutionFailure> {
        if open[connection.name] != nil, declared.contains(where: { $0.name == connection.name }) {
            return .failure(ExecutionFailure("already open"))
        }
        switch await openConnection(connection, name: connection.name) {
        case .success(let opened):
            open[connection.name] = opened
            if let index = declared.firstIndex(where: { $0.name == connection.name }) {
                declared[index] = connection
            } else {
                declared.append(connection)
            }
            return .success(())
        case .failure(let failure):
            return .failure(failure)
        }
    }

    /// Whether connection `name` is open.
    func isOpen(_ name: String) -> Bool { open[name] != nil }

    /// Closes every connection (at the end of the run).
    func closeAll() async {
        for connection in open.values { await connection.close() }
        open = [:]
    }
}
