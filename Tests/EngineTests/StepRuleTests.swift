import Foundation
import MySQLServer
import Plan
import RunRecord
import Testing

@testable import Report
@testable import Session

@Suite("Step rules through a fake server")
struct EngineRunTests {
    @Test("a clean run: steps ok, snapshots before and after, counters read, exit 0")
    func clean() async throws {
        let harness = EngineHarness()
        let result = try await harness.run(
            """
            steps:
              - {label: load, sql: "GROW 5000", expect: {rows: 0}}
              - snap: here
            """
        )
        #expect(result.exitCode == 0)
        #expect(result.manifest.outcome.status == .completed)
        #expect(result.step("load")?.outcome == .ok)
        #expect(result.step("load")?.kind == .sql)
        #expect(result.step("here")?.kind == .snap)
        let phases = result.manifest.snapshots.map(\.phase)
        #expect(phases == [.before, .after, .snap, .final])
        #expect(result.manifest.snapshots.allSatisfy { $0.kind == .detailed })
        let after = try #require(result.manifest.snapshots.first { $0.phase == .after })
        #expect(after.counters?.memoryUsed == 1_005_000)
        #expect(result.report.steps.first?.delta == 5000)
        #expect(result.report.steps.first?.sites.first?.function.contains("grow_here") == true)
        #expect(harness.server.state.withLock { $0.stopped })
    }

    @Test("the expected error goes on; an unexpected one stops the run with exit 4 and later steps not run")
    func expectedAndUnexpectedErrors() async throws {
        let result = try await EngineHarness().run(
            """
            steps:
              - {label: missing, sql: "FAIL 1146 42S02", expect: {error: 1146}}
              - {label: state, sql: "FAIL 1062 23000", expect: {error: '23000'}}
              - {label: broken, sql: "FAIL 1064 42000"}
              - {label: never, sql: "GROW 1"}
            """
        )
        #expect(result.step("missing")?.outcome == .expectedError)
        #expect(result.step("missing")?.error?.expected == true)
        #expect(result.step("state")?.outcome == .expectedError)
        #expect(result.step("broken")?.outcome == .failed)
        #expect(result.step("broken")?.error?.code == 1064)
        #expect(result.step("never")?.outcome == .notRun)
        #expect(result.exitCode == 4)
        #expect(result.manifest.outcome.status == .stepFailed)
        #expect(result.manifest.outcome.step == "broken")
        #expect(result.manifest.outcome.message?.contains("step 'broken' failed") == true)
    }

    @Test("expect: a success when an error was expected, a wrong error, wrong rows and wrong warnings fail")
    func expectationsNotMet() async throws {
        let cases: [(String, String)] = [
            ("{label: s, sql: \"ROWS 1\", expect: {error: 1146}}", "expected error 1146, but the statement succeeded"),
            ("{label: s, sql: \"FAIL 1064 42000\", expect: {error: 1146}}", "(expected error 1146)"),
            ("{label: s, sql: \"ROWS 2\", expect: {rows: 3}}", "expected 3 rows, got 2"),
            ("{label: s, sql: \"WARN 1\", expect: {warnings: 0}}", "expected 0 warnings, got 1"),
        ]
        for (step, message) in cases {
            let result = try await EngineHarness().run("steps:\n  - " + step)
            #expect(result.step("s")?.outcome == .failed, "\(step)")
            #expect(
                result.step("s")?.error?.message.contains(message) == true,
                "\(step): \(String(describing: result.step("s")?.error))"
            )
            #expect(result.exitCode == 4)
        }
    }

    @Test("only the last statement is checked against expect")
    func lastStatementOnly() async throws {
        let result = try await EngineHarness().run(
            """
            steps:
              - {label: s, sql: ["ROWS 5", "ROWS 2"], expect: {rows: 2}}
            """
        )
        #expect(result.step("s")?.outcome == .ok)
        #expect(result.step("s")?.rows == 2)
    }

    @Test("a step over max_growth and a flagged leak exit 3 with the budgets named")
    func budgetsAndLeaks() async throws {
        let result = try await EngineHarness().run(
            """
            leak: {min_growth: 1KiB, min_rounds_fraction: 0.8}
            steps:
              - {label: big, sql: "GROW 2000000", budget: {max_growth: 1MiB}}
              - {label: drip, sql: "GROW 4096", repeat: 5}
            """
        )
        #expect(result.manifest.outcome.status == .completed)
        #expect(result.exitCode == 3)
        #expect(result.manifest.outcome.message == "budget exceeded: max_growth of big, leak in drip")
        #expect(result.report.leaks.first?.rounds == 5)
        let rounds = result.manifest.snapshots.filter { $0.step == "drip" && $0.phase == .after }.compactMap(\.round)
        #expect(rounds == [1, 2, 3, 4, 5])
    }

    @Test("a max_heap within budget and a steady repeated step exit 0")
    func withinBudgets() async throws {
        let result = try await EngineHarness().run(
            """
            budget: {max_heap: 2MiB}
            steps:
              - {label: steady, sql: "ROWS 1", repeat: 4, budget: {max_growth: 1KiB}}
            """
        )
        #expect(result.exitCode == 0)
        #expect(result.report.withinBudgets)
        #expect(result.report.leaks.first?.flagged == false)
    }

    @Test("the server dying during a step: server_died with the death report, exit 4, no after snapshot")
    func serverDies() async throws {
        let result = try await EngineHarness().run(
            """
            steps:
              - {label: crash, sql: "DIE"}
              - {label: never, sql: "GROW 1"}
            """
        )
        let crash = try #require(result.step("crash"))
        #expect(crash.outcome == .serverDied)
        #expect(crash.error?.message.contains("424242") == true)
        #expect(result.step("never")?.outcome == .notRun)
        #expect(result.exitCode == 4)
        #expect(result.manifest.outcome.status == .serverDied)
        #expect(!result.manifest.snapshots.contains { $0.step == "crash" && $0.phase == .after })
        #expect(!result.manifest.snapshots.contains { $0.phase == .final })
    }

    @Test("a timeout kills the query with KILL QUERY and fails the step")
    func timeout() async throws {
        let result = try await EngineHarness().run(
            """
            steps:
              - {label: slow, sql: "SLEEP", timeout: 50ms}
            """
        )
        #expect(result.step("slow")?.outcome == .timedOut)
        #expect(result.step("slow")?.error?.message.contains("KILL QUERY") == true)
        #expect(result.exitCode == 4)
    }

    @Test("a snapshot that fails is a warning; a snap step without its snapshot fails")
    func snapshotFailure() async throws {
        let harness = EngineHarness()
        harness.monitor.failNext(.commandFailed(command: "detailed_snapshot", output: "", reason: "no space"))
        let result = try await harness.run("steps:\n  - snap: first\n")
        #expect(result.step("first")?.outcome == .ok)
        #expect(result.step("first")?.error?.message == "the snapshot could not be taken")
        #expect(result.manifest.warnings.contains { $0.contains("snapshot 1 (snap first) failed") })
    }

    @Test("light snapshots are recorded as light, and `snapshots: none` takes none")
    func kinds() async throws {
        let result = try await EngineHarness().run(
            """
            steps:
              - {label: quick, sql: "ROWS 1", snapshots: light}
              - {label: bare, sql: "ROWS 1", snapshots: none}
              - {snap: l, snapshots: light}
            """
        )
        #expect(result.manifest.snapshots(ofStep: "quick").map(\.kind) == [.light, .light])
        #expect(result.manifest.snapshots(ofStep: "bare").isEmpty)
        #expect(result.manifest.snapshots(ofStep: "l").map(\.kind) == [.light])
    }

    @Test("start failures map to exit codes: a missing program 2, bad input 1, the monitor's vgdb 2")
    func startFailures() async throws {
        var harness = EngineHarness()
        harness.startFailure = .valgrindMissing(searched: ["/usr/bin"])
        var result = try await harness.run("steps:\n  - snap: a\n")
        #expect(result.exitCode == 2)
        #expect(result.manifest.outcome.status == .startFailed)
        #expect(result.step("a")?.outcome == .notRun)

        harness = EngineHarness()
        harness.startFailure = .noSuchProcess(pid: 7)
        result = try await harness.run("steps:\n  - snap: a\n")
        #expect(result.exitCode == 1)

        harness = EngineHarness()
        harness.monitorFailure = .vgdbUnavailable(path: "vgdb", reason: "missing")
        result = try await harness.run("steps:\n  - snap: a\n")
        #expect(result.exitCode == 2)
        #expect(result.manifest.outcome.message?.hasPrefix("vgdb monitor:") == true)
        // The server that did start is stopped all the same.
        #expect(harness.server.state.withLock { $0.stopped })

        // The monitor a held server's start opens fails as the engine's own would: vgdb's absence is 2,
        // a vgdb that failed otherwise 4; the message says the server was stopped.
        harness = EngineHarness()
        harness.startFailure = .startupMonitor(pid: 41, .lockHeld(pid: 41, detail: "gdb is attached"))
        result = try await harness.run("steps:\n  - snap: a\n")
        #expect(result.exitCode == 2)
        #expect(result.manifest.outcome.message?.contains("valgrind (pid 41)") == true)
        #expect(result.manifest.outcome.message?.contains("the server has been stopped") == true)
        harness = EngineHarness()
        harness.startFailure = .startupMonitor(pid: 41, .vgdbFailed(pid: 41, prefix: "/run/vgdb", stderr: "boom"))
        result = try await harness.run("steps:\n  - snap: a\n")
        #expect(result.exitCode == 4)
    }

    @Test("parallel: every connection runs the statements; the rows are summed")
    func parallel() async throws {
        let harness = EngineHarness()
        let result = try await harness.run(
            """
            steps:
              - {label: many, parallel: {connections: 3, sql: "ROWS 2"}}
            """
        )
        #expect(result.step("many")?.outcome == .ok)
        #expect(result.step("many")?.rows == 6)
        #expect(harness.server.statements.filter { $0 == "ROWS 2" }.count == 3)
    }
}

@Suite("Step rules, pure")
struct PureRuleTests {
    @Test("parallel outcomes combine to the worst")
    func combine() {
        let combined = StepRules.combine([
            Execution(outcome: .ok, rows: 1), Execution(outcome: .failed, rows: 2),
            Execution(outcome: .expectedError),
        ])
        #expect(combined.outcome == .failed)
        #expect(combined.rows == 3)
        #expect(
            StepRules.combine([Execution(outcome: .timedOut), Execution(outcome: .serverDied)]).outcome == .serverDied
        )
    }

    @Test("a dead server turns a failure into server_died, keeping a real error but replacing a lost connection")
    func settle() {
        let lost = Execution(outcome: .failed, error: StepError(code: 2013, message: "Lost", expected: false))
        let settled = StepRules.settle(lost, death: "killed by SIGKILL")
        #expect(settled.outcome == .serverDied)
        #expect(settled.error?.message == "killed by SIGKILL")
        let real = Execution(outcome: .failed, error: StepError(code: 1064, message: "syntax", expected: false))
        #expect(StepRules.settle(real, death: "x").error?.message == "syntax")
        #expect(StepRules.settle(Execution(outcome: .interrupted), death: "x").outcome == .interrupted)
        #expect(StepRules.settle(real, death: nil).outcome == .failed)
    }

    @Test("exit status: 130 interrupted, 4 failed or dead, the start's own code, 0 or 3 when completed")
    func verdict() {
        let report = RunReport.make(
            manifest: RunManifest(tool: .init(version: "t"), plan: .init(name: "p", source: "p"), startedAt: ""),
            snapshots: [:]
        )
        #expect(StepRules.verdict(Ending(status: .interrupted), report: report).exitCode == 130)
        #expect(StepRules.verdict(Ending(status: .stepFailed), report: report).exitCode == 4)
        #expect(StepRules.verdict(Ending(status: .serverDied), report: report).exitCode == 4)
        #expect(StepRules.verdict(Ending(status: .startFailed, exitCode: 2), report: report).exitCode == 2)
        #expect(StepRules.verdict(Ending(status: .completed), report: report).exitCode == 0)
        var over = report
        over.budgets = [BudgetVerdict(budget: "max_heap", step: nil, limit: 1, measured: 2, passed: false, note: nil)]
        let outcome = StepRules.verdict(Ending(status: .completed), report: over)
        #expect(outcome.exitCode == 3)
        #expect(outcome.message == "budget exceeded: max_heap")
    }

    @Test("a run ends after a failed, timed-out, interrupted or dead step, not after an expected error")
    func ending() {
        var record = StepRecord(index: 1, label: "s", kind: .sql)
        for (outcome, status) in [
            (StepOutcome.failed, RunManifest.RunStatus.stepFailed), (.timedOut, .stepFailed),
            (.interrupted, .interrupted), (.serverDied, .serverDied),
        ] {
            record.outcome = outcome
            #expect(StepRules.ending(after: record, death: nil)?.status == status)
        }
        record.outcome = .expectedError
        #expect(StepRules.ending(after: record, death: nil) == nil)
        record.outcome = .timedOut
        #expect(StepRules.ending(after: record, death: nil)?.message == "step 's' timed out")
    }

    @Test("counters are parsed from the observer's rows")
    func counters() {
        #expect(CounterReader.memoryUsed(answer(["n", "v"], [["Memory_used", "123"]])) == 123)
        let rows = CounterReader.processlist(
            answer(["a"], [["7", "app", "Sleep", "5"], ["1", "root", "Query", "99"], ["x", "bad", "", "1"]])
        )
        // Sorted by id here: the query has no ORDER BY (a filesort in every read).
        #expect(
            rows == [
                ProcessMemory(id: 1, user: "root", command: "Query", memoryUsed: 99),
                ProcessMemory(id: 7, user: "app", command: "Sleep", memoryUsed: 5),
            ]
        )
        #expect(!CounterReader.processlistQuery.contains("ORDER BY"))
    }
}

@Suite("An attached server's glibc copy thresholds")
struct AttachedTunablesTests {
    @Test("a server without them gets a run-log line naming its pid and the variable to set; one with them none")
    func note() {
        let missing = ServerProfiles.tunablesNotes(pid: 4242, glibcTunables: "glibc.malloc.arena_max=2")
        guard case .log(let line)? = missing.first, missing.count == 1 else {
            Issue.record("expected one log line, got \(missing)")
            return
        }
        #expect(line.contains("pid 4242"))
        #expect(line.contains("GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.cpu.x86_rep_movsb_threshold="))
        #expect(ServerProfiles.tunablesNotes(pid: 1, glibcTunables: nil).count == 1)
        let applied = "glibc.cpu.x86_rep_movsb_threshold=1:glibc.cpu.x86_rep_stosb_threshold=1"
        #expect(ServerProfiles.tunablesNotes(pid: 1, glibcTunables: applied).isEmpty)
    }
}

@Suite("Root's logins over TCP on a server snapctl started")
struct RootOverTCPTests {
    /// Runs one snap step on a fake server whose facts say `networking` (`skip_networking`,
    /// `skip_name_resolve`), and returns the run's warnings.
    func warnings(
        networking: [String]?,
        version: String = "10.11.0-MariaDB-fake",
        attached: Bool = false
    ) async throws -> [String] {
        let harness = EngineHarness()
        harness.server.state.withLock {
            $0.networking = networking
            $0.version = version
        }
        let result = try await harness.run(
            (attached ? "attach: {pid: 4242, socket: /tmp/r.sock}\n" : "") + "steps: [{snap: a}]"
        )
        #expect(result.exitCode == 0)
        return result.manifest.warnings
    }

    @Test("on TCP with names resolved: warned, naming --skip-name-resolve; socket only or names not resolved: not")
    func namesResolved() async throws {
        #expect(try await warnings(networking: ["0", "0"]).contains(SessionEngine.rootOverTCPWarning))
        for quiet in [["1", "0"], ["0", "1"], ["1", "1"]] {
            let said = try await warnings(networking: quiet)
            #expect(!said.contains(SessionEngine.rootOverTCPWarning), "\(quiet)")
            #expect(!said.contains(SessionEngine.networkRootWarning), "\(quiet)")
        }
        #expect(!(try await warnings(networking: nil)).contains(SessionEngine.rootOverTCPWarning))
    }

    @Test("MariaDB before 10.4 keeps passwordless network roots: warned on TCP even with --skip-name-resolve")
    func olderMariaDB() async throws {
        let old = "10.3.39-MariaDB-0+deb10u1"
        #expect(try await warnings(networking: ["0", "1"], version: old).contains(SessionEngine.networkRootWarning))
        #expect(try await warnings(networking: ["0", "0"], version: old).contains(SessionEngine.networkRootWarning))
        let socketOnly = try await warnings(networking: ["1", "0"], version: old)
        #expect(!socketOnly.contains(SessionEngine.networkRootWarning))
    }

    @Test("an attached server's accounts are its owner's: no warning")
    func attached() async throws {
        let said = try await warnings(networking: ["0", "0"], version: "10.3.39-MariaDB", attached: true)
        #expect(!said.contains(SessionEngine.rootOverTCPWarning) && !said.contains(SessionEngine.networkRootWarning))
    }
}
