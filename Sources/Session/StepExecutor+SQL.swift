import MySQLServer
import Plan
import RunRecord

extension StepExecutor {
    /// Runs statements in order; the last one is checked against `expect`. A statement past the
    /// deadline, or running at Ctrl-C, is stopped with `KILL QUERY` through the observer.
    nonisolated func runStatements(
        _ statements: [String],
        on connection: any SQLSession,
        expect: Plan.Expectation?,
        deadline: ContinuousClock.Instant?,
        primary: Replication? = nil
    ) async -> Execution {
        // A statement on the primary is killed through the primary's own connection, and a lost
        // connection there is the primary's story, not the profiled server's.
        let observer = primary?.primaryObserver ?? snapshotter.observer
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
                execution = StepRules.succeeded(query, statement: statement, expect: isLast ? expect : nil)
                if !execution.outcome.isSuccess { return execution }
            case .failure(let error):
                var explained = error
                if case .sql(let sql) = error, sql.isConnectionLost {
                    if let primary {
                        explained = await primary.primary.explain(error)
                        if case .serverDied = explained {
                            return Execution(
                                outcome: .failed,
                                error: StepError(
                                    message: "the primary died: \(explained)",
                                    statement: statement,
                                    expected: false
                                )
                            )
                        }
                    } else {
                        explained = await server.explain(error)
                        if case .serverDied = explained { watch.markDead(explained.description) }
                    }
                }
                return StepRules.failed(
                    error,
                    explained: explained,
                    statement: statement,
                    expected: isLast ? expect?.error : nil
                )
            }
        }
        return execution
    }

    /// N fresh connections made like the step's connection, all running the statements at once.
    func runParallel(_ step: Plan.Step, parallel: Plan.Parallel, deadline: ContinuousClock.Instant?) async -> Execution
    {
        guard let declaration = declaration(for: step) else {
            return Execution(outcome: .failed, error: StepError(message: "no connection is declared", expected: false))
        }
        var opened: [any SQLSession] = []
        for number in 1...max(1, parallel.connections) {
            switch await openConnection(declaration, name: "\(step.label)-\(number)", on: step.on) {
            case .success(let connection): opened.append(connection)
            case .failure(let failure):
                for connection in opened { await connection.close() }
                return failure.execution
            }
        }
        let statements = parallel.statements
        let expect = step.expect
        let primary = step.on == .primary ? replication : nil
        let results = await withTaskGroup(of: Execution.self) { group in
            for connection in opened {
                group.addTask {
                    await self.runStatements(
                        statements,
                        on: connection,
                        expect: expect,
                        deadline: deadline,
                        primary: primary
                    )
                }
            }
            var all: [Execution] = []
            for await result in group { all.append(result) }
            return all
        }
        for connection in opened { await connection.close() }
        return StepRules.combine(results)
    }
}
