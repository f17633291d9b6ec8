import MySQLServer
import Plan
import Report
import RunRecord
import Valgrind

/// What running a step's work once gave.
struct Execution: Sendable {
    var outcome: StepOutcome = .ok
    var rows: UInt64? = nil
    var warnings: UInt32? = nil
    var error: StepError? = nil
    var exitStatus: String? = nil
    /// What the last statement returned.
    var result: QueryResult? = nil
}

/// How a run ended, before finalisation turns it into an outcome and an exit status.
struct Ending: Sendable, Hashable {
    var status: RunManifest.RunStatus
    var message: String? = nil
    var step: String? = nil
    /// For `start_failed`: 2 for an environment problem, 1 for bad input, 4 otherwise.
    var exitCode: Int32? = nil
}

/// The rules that decide outcomes: `expect:`, server errors, parallel connections, a dead server, how
/// a run ends, and its exit status. Pure, so that each rule is tested on its own.
enum StepRules {
    // MARK: expect

    /// Whether a server error is the one the plan expected.
    static func matches(_ expected: Plan.ExpectedError, _ error: SQLError) -> Bool {
        switch expected {
        case .code(let code): return Int(error.code) == code
        case .sqlState(let state): return error.sqlState.uppercased() == state.uppercased()
        }
    }

    /// Why the rows and warnings of a statement that succeeded do not meet `expect`, or `nil`.
    static func mismatch(_ expect: Plan.Expectation, rows: UInt64?, warnings: UInt32?) -> String? {
        if let wanted = expect.rows, rows.map({ Int($0) }) != wanted {
            return "expected \(wanted) rows, got \(rows.map(String.init) ?? "none")"
        }
        if let wanted = expect.warnings, warnings.map({ Int($0) }) != wanted {
            return "expected \(wanted) warnings, got \(warnings.map(String.init) ?? "none")"
        }
        return nil
    }

    /// The execution of a statement that succeeded: its counts, then the last statement checked against
    /// `expect`.
    static func succeeded(_ query: QueryResult, statement: String, expect: Plan.Expectation?) -> Execution {
        var execution = Execution()
        execution.rows = query.columns.isEmpty ? query.affectedRows : UInt64(query.rows.count)
        execution.warnings = query.warningCount
        execution.result = query
        guard let expect else { return execution }
        if let expected = expect.error {
            execution.outcome = .failed
            execution.error = StepError(
                message: "expected error \(expected), but the statement succeeded",
                statement: statement,
                expected: false
            )
            execution.result = nil
        } else if let mismatch = mismatch(expect, rows: execution.rows, warnings: execution.warnings) {
            execution.outcome = .failed
            execution.error = StepError(message: mismatch, statement: statement, expected: false)
        }
        return execution
    }

    /// The execution of a statement that failed with `error` (`explained`: the same error with a dead
    /// server's story): an expected error when it is the last statement's expected one, else a failure.
    static func failed(
        _ error: ServerError,
        explained: ServerError,
        statement: String,
        expected: Plan.ExpectedError?
    ) -> Execution {
        if let expected, case .sql(let sql) = error, matches(expected, sql) {
            var done = failure(error, statement: statement, expected: true)
            done.outcome = .expectedError
            return done
        }
        var failed = failure(explained, statement: statement, expected: false)
        if let expected { failed.error?.message += " (expected error \(expected))" }
        if case .serverDied = explained { failed.outcome = .serverDied }
        return failed
    }

    /// A failed execution carrying `error`: code and SQLSTATE for a server error, the message otherwise.
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

    // MARK: parallel

    /// One outcome for N connections: the worst of them (server death, interruption, timeout, failure,
    /// expected error, ok), with the rows summed.
    static func combine(_ results: [Execution]) -> Execution {
        let order: [StepOutcome] = [.serverDied, .interrupted, .timedOut, .failed, .expectedError, .ok]
        func rank(_ outcome: StepOutcome) -> Int { order.firstIndex(of: outcome) ?? 0 }
        var combined = results.min { rank($0.outcome) < rank($1.outcome) } ?? Execution()
        combined.rows = results.reduce(UInt64(0)) { $0 + ($1.rows ?? 0) }
        return combined
    }

    // MARK: a dead server

    /// The step's outcome and error once the server is known dead (`death`): every outcome but an
    /// interruption becomes `server_died`, and a missing error, or a lost connection's, becomes the death
    /// report.
    static func settle(_ execution: Execution, death: String?) -> Execution {
        guard let death, execution.outcome != .interrupted else { return execution }
        var settled = execution
        settled.outcome = .serverDied
        if settled.error == nil || settled.error?.code.map({ [2006, 2013].contains($0) }) == true {
            settled.error = StepError(message: death, expected: false)
        }
        return settled
    }

    // MARK: the run

    /// How a scripted run ends after a step, or `nil` when it goes on.
    static func ending(after record: StepRecord, death: String?) -> Ending? {
        switch record.outcome {
        case .ok, .expectedError, .notRun:
            return nil
        case .interrupted:
            return Ending(
                status: .interrupted,
                message: "interrupted during step '\(record.label)'",
                step: record.label
            )
        case .serverDied:
            return Ending(
                status: .serverDied,
                message: death ?? record.error?.message ?? "the server died",
                step: record.label
            )
        case .failed, .timedOut:
            return Ending(
                status: .stepFailed,
                message: "step '\(record.label)' \(record.outcome == .timedOut ? "timed out" : "failed")"
                    + (record.error.map { ": " + $0.message } ?? ""),
                step: record.label
            )
        }
    }

    /// The status, exit code and message a run ends with (docs/architecture.md, "Exit codes"): 0 completed
    /// within budgets, 3 completed over a budget or with a flagged leak, 4 a failed step or a dead
    /// server, 130 interrupted, and the start failure's own code.
    static func verdict(_ ending: Ending, report: RunReport) -> RunManifest.Outcome {
        var status = ending.status
        let exitCode: Int32
        switch ending.status {
        case .interrupted: exitCode = 130
        case .startFailed: exitCode = ending.exitCode ?? 4
        case .stepFailed, .serverDied: exitCode = 4
        case .completed, .running:
            status = .completed
            exitCode = report.withinBudgets ? 0 : 3
        }
        var message = ending.message
        if status == .completed && exitCode == 3 {
            let failed =
                report.budgets.filter { !$0.passed }.map { $0.step.map { "max_growth of \($0)" } ?? "max_heap" }
                + report.leaks.filter(\.flagged).map { "leak in \($0.step)" }
            message = "budget exceeded: " + failed.joined(separator: ", ")
        }
        return RunManifest.Outcome(status: status, exitCode: exitCode, message: message, step: ending.step)
    }

    /// The exit code of a start that failed with `error`: 2 for an environment problem (a missing
    /// program), 1 for bad input, 4 otherwise; an interruption is not a failure.
    /// The exit status when the vgdb monitor cannot be opened: 2 for what the installation or another
    /// debugger causes (no vgdb, a held lock, no answer), 4 otherwise.
    static func monitorExitCode(_ error: ValgrindError) -> Int32 {
        switch error {
        case .vgdbUnavailable, .timedOut, .lockHeld: 2
        default: 4
        }
    }

    static func startFailure(_ error: ServerError) -> Ending {
        let code: Int32
        switch error {
        case .cancelled:
            return Ending(status: .interrupted, message: "interrupted while the server was starting")
        case .serverBinaryMissing, .unrecognisedServer, .initialiserMissing, .valgrindMissing, .vgdbMissing,
            .valgrindVersionUnreadable, .xtreeMemoryUnsupported:
            code = 2
        case .socketPathTooLong, .passwordVariableUnset, .noSuchProcess, .noVgdbFIFO, .preloadMissing,
            .pagesAsHeapNotEnabled, .xtreeMemoryNotEnabled:
            code = 1
        case .startupMonitor(_, let monitorError):
            code = monitorExitCode(monitorError)
        default:
            code = 4
        }
        return Ending(status: .startFailed, message: error.description, exitCode: code)
    }
}
