import Foundation
import MySQLServer
import Plan
import Report
import RunRecord

extension SessionRunner {
    /// Runs one step with its snapshots and records it; returns its outcome.
    func runStep(_ position: Int, _ step: Plan.Step) async -> StepOutcome {
        if case .snap = step.kind {
            // `{snap: LABEL, snapshots: light}` takes a light one; every other snap step a detailed one.
            let kind: Plan.SnapshotKind = step.snapshots.after == .light ? .light : .detailed
            let record = await snapshot(step: step.label, phase: .snap, round: nil, kind: kind)
            manifest.steps[position].start = elapsed()
            manifest.steps[position].duration = 0
            manifest.steps[position].rounds = 1
            let outcome: StepOutcome = record == nil && serverDeath != nil ? .serverDied : .ok
            if record == nil && serverDeath == nil {
                manifest.steps[position].error = StepError(message: "the snapshot could not be taken", expected: false)
            }
            manifest.steps[position].outcome = outcome
            emit(
                .stepFinished(
                    manifest.steps[position],
                    before: record?.totalBytes,
                    after: record?.totalBytes,
                    peak: nil,
                    topSite: nil
                )
            )
            return outcome
        }

        let before = await snapshot(step: step.label, phase: .before, round: nil, kind: step.snapshots.before)
        if let death = serverDeath {
            manifest.steps[position].outcome = .serverDied
            manifest.steps[position].error = StepError(message: death, expected: false)
            return .serverDied
        }
        let stepStart = ContinuousClock.now
        manifest.steps[position].start = elapsed()
        let deadline = step.timeout.map { stepStart + $0.duration }

        var timer: Task<Void, Never>?
        if let interval = step.snapshots.during, interval.milliseconds > 0 {
            timer = startDuringTimer(label: step.label, interval: interval.duration)
        }
        var work = Duration.zero
        var execution = Execution()
        let rounds = step.repeat
        var lastAfter: SnapshotRecord?
        for round in 1...max(1, rounds) {
            if Task.isCancelled {
                execution.outcome = .interrupted
                break
            }
            let roundStart = ContinuousClock.now
            execution = await execute(step, deadline: deadline)
            work += ContinuousClock.now - roundStart
            manifest.steps[position].rounds = round
            guard execution.outcome.isSuccess else { break }
            if rounds > 1 {
                // Each round is snapshotted: the leak check compares them. The timer stays on.
                lastAfter =
                    await snapshot(step: step.label, phase: .after, round: round, kind: step.snapshots.after)
                    ?? lastAfter
            }
        }
        if let timer {
            timer.cancel()
            await timer.value
        }
        manifest.steps[position].duration = work.seconds
        manifest.steps[position].rows = execution.rows
        manifest.steps[position].warnings = execution.warnings
        manifest.steps[position].error = execution.error
        manifest.steps[position].exitStatus = execution.exitStatus
        if execution.outcome == .failed || execution.outcome == .timedOut, serverDeath == nil, await serverHasDied() {
            execution.outcome = .serverDied
        }
        if let death = serverDeath, execution.outcome != .interrupted {
            execution.outcome = .serverDied
            if manifest.steps[position].error == nil
                || manifest.steps[position].error?.code.map({ [2006, 2013].contains($0) }) == true
            {
                manifest.steps[position].error = StepError(message: death, expected: false)
            }
        }
        manifest.steps[position].outcome = execution.outcome
        lastQueryResult = execution.result

        // The after snapshot is taken after a failure too (the heap the failure left is part of the
        // answer), but not once the server is gone or the user asked to stop.
        if rounds <= 1, execution.outcome != .serverDied, execution.outcome != .interrupted {
            lastAfter = await snapshot(step: step.label, phase: .after, round: nil, kind: step.snapshots.after)
        }
        var top: Site?
        if let before, let lastAfter, let old = files[before.id]?.snapshots.last,
            let new = files[lastAfter.id]?.snapshots.last
        {
            top = RunReport.growingSites(before: old, after: new, limit: 1).first
        }
        let peak = manifest.snapshots(ofStep: step.label).filter { $0.phase == .during }.map(\.totalBytes).max()
        emit(
            .stepFinished(
                manifest.steps[position],
                before: before?.totalBytes,
                after: lastAfter?.totalBytes,
                peak: peak,
                topSite: top
            )
        )
        return execution.outcome
    }

    /// What running a step's work once gave.
    struct Execution: Sendable {
        var outcome: StepOutcome = .ok
        var rows: UInt64? = nil
        var warnings: UInt32? = nil
        var error: StepError? = nil
        var exitStatus: String? = nil
        /// What the last statement returned, for an interactive run to show.
        var result: QueryResult? = nil
    }

    func serverHasDied() async -> Bool {
        guard let server else { return false }
        if await server.hasDied() {
            if serverDeath == nil {
                if case .managed(let managed) = server, let exit = managed.exitStatus {
                    serverDeath = managed.deathReport(exit).description
                } else {
                    serverDeath = "the server (pid \(server.pid)) is gone"
                }
            }
            return true
        }
        return false
    }

    /// Light snapshots every `interval` until cancelled.
    func startDuringTimer(label: String, interval: Duration) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                if Task.isCancelled { return }
                _ = await self.snapshot(step: label, phase: .during, round: nil, kind: .light)
            }
        }
    }

    /// Runs one round of a step's work.
    func execute(_ step: Plan.Step, deadline: ContinuousClock.Instant?) async -> Execution {
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
            return await runShell(step: step, command: command, deadline: deadline)
        case .sql, .sqlFile:
            let connection: Connection
            switch await connectionFor(step) {
            case .success(let open): connection = open
            case .failure(let failure): return failure.execution
            }
            return await runStatements(step.statements, on: connection, expect: step.expect, deadline: deadline)
        case .parallel(let parallel):
            return await runParallel(step, parallel: parallel, deadline: deadline)
        }
    }

    /// The step's connection, opened on first use (its database may be created by an earlier step).
    func connectionFor(_ step: Plan.Step) async -> Result<Connection, ExecutionFailure> {
        guard let declared = plan.connection(for: step) else {
            return .failure(
                ExecutionFailure(
                    Execution(outcome: .failed, error: StepError(message: "no connection is declared", expected: false))
                )
            )
        }
        if let open = connections[declared.name] { return .success(open) }
        switch await openConnection(declared, name: declared.name) {
        case .success(let connection):
            connections[declared.name] = connection
            return .success(connection)
        case .failure(let failure):
            return .failure(failure)
        }
    }

    func openConnection(_ declared: Plan.Connection, name: String) async -> Result<Connection, ExecutionFailure> {
        guard let server else {
            return .failure(
                ExecutionFailure(Execution(outcome: .failed, error: StepError(message: "no server", expected: false)))
            )
        }
        var password: String?
        var user = declared.user
        if let variable = declared.passwordEnv {
            guard let value = environmentValue(variable) else {
                return .failure(
                    ExecutionFailure(
                        Execution(
                            outcome: .failed,
                            error: StepError(
                                message:
                                    "connection '\(declared.name)': environment variable \(variable) (password_env) is not set; export it",
                                expected: false
                            )
                        )
                    )
                )
            }
            password = value
        } else if case .attached(_, let attachPassword) = server, declared.user == Plan.Connection.defaultUser,
            let attach = plan.target.attach
        {
            user = attach.user
            password = attachPassword
        }
        do {
            return .success(
                try await server.connect(name: name, user: user, password: password, database: declared.database)
            )
        } catch {
            let explained = await server.explain(error)
            return .failure(ExecutionFailure(Self.failure(explained, statement: nil, expected: false)))
        }
    }

    /// An `Execution` carried as an error.
    struct ExecutionFailure: Error {
        var execution: Execution
        init(_ execution: Execution) { self.execution = execution }
    }

    /// Runs statements in order; the last one is checked against `expect`.
    func runStatements(
        _ statements: [String],
        on connection: Connection,
        expect: Plan.Expectation?,
        deadline: ContinuousClock.Instant?
    ) async -> Execution {
        guard let observer else {
            return Execution(outcome: .failed, error: StepError(message: "no observer", expected: false))
        }
        var execution = Execution()
        for (position, statement) in statements.enumerated() {
            let isLast = position == statements.count - 1
            if Task.isCancelled { return Execution(outcome: .interrupted) }
            if let deadline, ContinuousClock.now >= deadline {
                return Execution(
                    outcome: .timedOut,
                    error: StepError(
                        message: "the step's timeout passed before this statement",
                        statement: statement,
                        expected: false
                    )
                )
            }
            let (result, timedOut, interrupted) = await QueryKiller.execute(
                statement,
                on: connection,
                observer: observer,
                deadline: deadline
            )
            if interrupted {
                return Execution(
                    outcome: .interrupted,
                    error: StepError(
                        message: "interrupted (Ctrl-C); the query was killed",
                        statement: statement,
                        expected: false
                    )
                )
            }
            if timedOut {
                return Execution(
                    outcome: .timedOut,
                    error: StepError(
                        message:
                            "the step's timeout passed; the query was killed with KILL QUERY (raise the step's timeout: if it needs longer)",
                        statement: statement,
                        expected: false
                    )
                )
            }
            switch result {
            case .success(let query):
                execution.rows = query.columns.isEmpty ? query.affectedRows : UInt64(query.rows.count)
                execution.warnings = query.warningCount
                execution.result = query
                if isLast, let expect {
                    if let expected = expect.error {
                        return Execution(
                            outcome: .failed,
                            rows: execution.rows,
                            warnings: execution.warnings,
                            error: StepError(
                                message: "expected error \(expected), but the statement succeeded",
                                statement: statement,
                                expected: false
                            )
                        )
                    }
                    if let mismatch = Self.mismatch(expect, rows: execution.rows, warnings: execution.warnings) {
                        execution.outcome = .failed
                        execution.error = StepError(message: mismatch, statement: statement, expected: false)
                    }
                }
            case .failure(let error):
                var explained = error
                if case .sql(let sql) = error, sql.isConnectionLost, let server {
                    explained = await server.explain(error)
                    if case .serverDied = explained { serverDeath = explained.description }
                }
                if isLast, let expected = expect?.error, case .sql(let sql) = error, Self.matches(expected, sql) {
                    var done = Self.failure(error, statement: statement, expected: true)
                    done.outcome = .expectedError
                    return done
                }
                var failed = Self.failure(explained, statement: statement, expected: false)
                if let expected = expect?.error, isLast {
                    failed.error?.message += " (expected error \(expected))"
                }
                if serverDeath != nil { failed.outcome = .serverDied }
                return failed
            }
        }
        return execution
    }

    static func matches(_ expected: Plan.ExpectedError, _ error: SQLError) -> Bool {
        switch expected {
        case .code(let code): return Int(error.code) == code
        case .sqlState(let state): return error.sqlState.uppercased() == state.uppercased()
        }
    }

    static func mismatch(_ expect: Plan.Expectation, rows: UInt64?, warnings: UInt32?) -> String? {
        if let wanted = expect.rows, rows.map({ Int($0) }) != wanted {
            return "expected \(wanted) rows, got \(rows.map(String.init) ?? "none")"
        }
        if let wanted = expect.warnings, warnings.map({ Int($0) }) != wanted {
            return "expected \(wanted) warnings, got \(warnings.map(String.init) ?? "none")"
        }
        return nil
    }

    static func failure(_ error: ServerError, statement: String?, expected: Bool) -> Execution {
        if case .sql(let sql) = error {
            return Execution(
                outcome: .failed,
                error: StepError(
                    code: sql.code,
                    sqlState: sql.sqlState,
                    message: sql.message,
                    statement: statement,
                    expected: expected
                )
            )
        }
        return Execution(
            outcome: .failed,
            error: StepError(message: error.description, statement: statement, expected: expected)
        )
    }

    /// N fresh connections made like the step's connection, all running the statements at once.
    func runParallel(_ step: Plan.Step, parallel: Plan.Parallel, deadline: ContinuousClock.Instant?) async -> Execution
    {
        guard let declared = plan.connection(for: step) else {
            return Execution(outcome: .failed, error: StepError(message: "no connection is declared", expected: false))
        }
        var opened: [Connection] = []
        for number in 1...max(1, parallel.connections) {
            switch await openConnection(declared, name: "\(step.label)-\(number)") {
            case .success(let connection): opened.append(connection)
            case .failure(let failure):
                for connection in opened { await connection.close() }
                return failure.execution
            }
        }
        let statements = parallel.statements
        let expect = step.expect
        let results = await withTaskGroup(of: Execution.self) { group in
            for connection in opened {
                group.addTask {
                    await self.runStatements(statements, on: connection, expect: expect, deadline: deadline)
                }
            }
            var all: [Execution] = []
            for await result in group { all.append(result) }
            return all
        }
        for connection in opened { await connection.close() }
        let order: [StepOutcome] = [.serverDied, .interrupted, .timedOut, .failed, .expectedError, .ok]
        var combined =
            results.min { (order.firstIndex(of: $0.outcome) ?? 0) < (order.firstIndex(of: $1.outcome) ?? 0) }
            ?? Execution()
        combined.rows = results.reduce(UInt64(0)) { $0 + ($1.rows ?? 0) }
        return combined
    }
}
