import Foundation
import MySQLServer
import Plan
import RunRecord
import TestSupport
import Testing

@testable import Report
@testable import Session

/// The rules of a profiled replica, through a fake replica and a fake primary: where steps run, the
/// wait for the replica before the after snapshot, and every replication fault with its exit status.
@Suite("A replica and its primary through fakes")
struct ReplicaRuleTests {
    static let primaryPlan = "primary: {catch_up_timeout: 300ms}\n"

    /// Runs `yaml` and returns the result and the run directory's files that hold `needle`.
    func run(_ harness: EngineHarness, _ yaml: String) async throws -> (SessionResult, [String]) {
        let scratch = try Scratch("replica-rules")
        defer { scratch.cleanup() }
        let directory = scratch.run
        let result = try await Session.run(harness.options(try EngineHarness.plan(yaml), in: directory))
        var holding: [String] = []
        if let enumerator = FileManager.default.enumerator(atPath: directory) {
            while let file = enumerator.nextObject() as? String {
                let data = FileManager.default.contents(atPath: directory + "/" + file) ?? Data()
                if data.range(of: Data(EngineHarness.replicationPassword.utf8)) != nil { holding.append(file) }
            }
        }
        return (result, holding)
    }

    @Test("on: primary runs the SQL on the primary; the after snapshot waits until the replica applied it")
    func stepOnPrimary() async throws {
        let harness = EngineHarness()
        let (result, holding) = try await run(
            harness,
            Self.primaryPlan + """
                steps:
                  - {label: write, on: primary, sql: ["INSERT 1", "INSERT 2"]}
                  - {label: local, sql: "GROW 100"}
                """
        )
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        // Replication was set up from the primary's position, with the generated password.
        let replication = harness.server.state.withLock { $0.replication }
        #expect(replication.statements.first == "SET GLOBAL gtid_slave_pos='0-1-3'")
        #expect(
            replication.statements.contains {
                $0.contains("MASTER_USE_GTID=slave_pos") && $0.contains("MASTER_PORT=33061")
            }
        )
        #expect(replication.statements.last == "START SLAVE")
        #expect(harness.primary.statements.contains { $0.hasPrefix("CREATE USER 'snapctl_repl'@'127.0.0.1'") })
        // The user is created outside the binary log, so that it does not replicate.
        #expect(harness.primary.statements.first == "SET SESSION sql_log_bin=0")

        // The step's statements ran on the primary only.
        #expect(harness.primary.statements.contains("INSERT 1"))
        #expect(!harness.server.statements.contains("INSERT 1"))
        #expect(harness.server.statements.contains("GROW 100"))

        let write = try #require(result.step("write"))
        #expect(write.on == "primary")
        #expect(write.replica?.caughtUp == true)
        #expect(write.replica?.primaryPosition == "0-1-5")
        #expect(write.replica?.replicaPosition == "0-1-5")
        #expect(write.replica?.catchUpSeconds != nil)
        // Snapshots: before write (nothing applied yet of it), after write (both applied), around local.
        let applied = harness.server.state.withLock { $0.appliedAtSnapshots }
        #expect(applied.prefix(2) == [3, 5])
        // A step on the replica records the replica's state, without a catch-up.
        let local = try #require(result.step("local"))
        #expect(local.on == nil)
        #expect(local.replica?.ioRunning == "Yes")
        #expect(local.replica?.catchUpSeconds == nil)

        #expect(result.manifest.primary?.mode == "managed")
        #expect(result.manifest.primary?.startPosition == "0-1-3")
        #expect(result.manifest.primary?.shutdown == "fake primary shutdown")
        #expect(harness.primary.isStopped)
        #expect(result.report.text().contains("replica: IO thread Yes, SQL thread Yes"))
        #expect(holding.isEmpty, "the replication password is in \(holding)")
    }

    @Test("on: primary without a primary is a plan error naming the step and what to add")
    func onPrimaryWithoutPrimary() async throws {
        #expect {
            _ = try EngineHarness.plan("steps:\n  - {label: write, on: primary, sql: SELECT 1}\n")
        } throws: { error in
            let text = "\(error)"
            return text.contains("fake.yaml:4:")
                && text.contains("step 'write' runs on: primary, but the plan has no primary")
                && text.contains("add primary: beside server:")
        }
    }

    @Test("catch_up_timeout passes: the step fails saying how far behind the replica was, exit 4")
    func catchUpTimeout() async throws {
        let harness = EngineHarness()
        let (result, _) = try await run(
            harness,
            Self.primaryPlan + """
                steps:
                  - {label: write, on: primary, sql: [STALL, "INSERT 2"], catch_up_timeout: 200ms}
                  - {label: never, sql: "GROW 1"}
                """
        )
        #expect(result.exitCode == 4)
        #expect(result.manifest.outcome.status == .stepFailed)
        let write = try #require(result.step("write"))
        #expect(write.outcome == .failed)
        let message = write.error?.message ?? ""
        #expect(message.contains("the replica did not catch up within 200ms"), "\(message)")
        #expect(message.contains("up to 0-1-3 of the primary's 0-1-5 (2 transactions behind)"), "\(message)")
        #expect(message.contains("Seconds_Behind_Master 2"), "\(message)")
        #expect(write.replica?.caughtUp == false)
        #expect(result.step("never")?.outcome == .notRun)
        // The after snapshot is still taken, and the run finalised with both servers stopped.
        #expect(result.manifest.snapshots.contains { $0.step == "write" && $0.phase == .after })
        #expect(harness.primary.isStopped)
        #expect(harness.server.state.withLock { $0.stopped })
    }

    @Test("the primary's catch_up_timeout applies when the step names none")
    func primaryTimeout() async throws {
        let (result, _) = try await run(
            EngineHarness(),
            Self.primaryPlan + "steps:\n  - {label: write, on: primary, sql: STALL}\n"
        )
        #expect(result.step("write")?.error?.message.contains("within 300ms") == true)
    }

    @Test("the replica's SQL thread stops on an error: the step fails with it, exit 4, the run finalised")
    func sqlThreadError() async throws {
        let harness = EngineHarness()
        let (result, _) = try await run(
            harness,
            Self.primaryPlan + "steps:\n  - {label: write, on: primary, sql: BREAK 1146}\n"
        )
        #expect(result.exitCode == 4)
        let write = try #require(result.step("write"))
        #expect(write.outcome == .failed)
        #expect(write.error?.message.contains("the replica's SQL thread stopped on error 1146") == true)
        #expect(write.replica?.lastSQLErrno == 1146)
        #expect(write.replica?.sqlRunning == "No")
        #expect(result.manifest.outcome.message?.contains("step 'write' failed") == true)
        #expect(result.manifest.finishedAt != nil)
        #expect(harness.primary.isStopped)
        #expect(harness.server.state.withLock { $0.stopped })
    }

    @Test("the replica cannot connect: Last_IO_Error in the message, exit 4, both servers stopped")
    func cannotConnect() async throws {
        let harness = EngineHarness()
        harness.server.state.withLock { $0.replication.connectError = 2003 }
        let (result, _) = try await run(harness, Self.primaryPlan + "steps:\n  - {label: write, on: primary, sql: X}\n")
        #expect(result.exitCode == 4)
        #expect(result.manifest.outcome.status == .startFailed)
        let message = result.manifest.outcome.message ?? ""
        #expect(message.contains("the replica cannot connect to the primary at 127.0.0.1:33061"), "\(message)")
        #expect(message.contains("Last_IO_Error 2003: error connecting to master"), "\(message)")
        #expect(result.step("write")?.outcome == .notRun)
        #expect(harness.primary.isStopped)
        #expect(harness.server.state.withLock { $0.stopped })
    }

    @Test("a failing CHANGE MASTER is reported without its statement: the password stays out of the run")
    func changeMasterFailsWithoutPassword() async throws {
        let harness = EngineHarness()
        harness.server.state.withLock { $0.replication.changeMasterFails = true }
        let (result, holding) = try await run(
            harness,
            Self.primaryPlan + "steps:\n  - {label: w, on: primary, sql: X}\n"
        )
        #expect(result.exitCode == 4)
        let message = result.manifest.outcome.message ?? ""
        #expect(message.contains("pointing the replica at the primary: SQL error 1210"), "\(message)")
        #expect(!message.contains(EngineHarness.replicationPassword))
        #expect(holding.isEmpty, "the replication password is in \(holding)")
    }

    @Test("a primary that cannot start: exit 4 (2 when its binary is missing), the replica never started")
    func primaryStartFailure() async throws {
        var harness = EngineHarness()
        harness.primaryFailure = .exitedDuringStartup(
            pid: nil,
            exit: .exited(1),
            errorLog: LogTail(path: "/run/logs/primary.err", lines: ["[ERROR] unknown option '--nope'"]),
            valgrindLog: LogTail(path: "/run/logs/primary.console", lines: [])
        )
        let (result, _) = try await run(harness, Self.primaryPlan + "steps:\n  - {label: w, on: primary, sql: X}\n")
        #expect(result.exitCode == 4)
        let message = result.manifest.outcome.message ?? ""
        #expect(message.hasPrefix("the primary could not be started: "), "\(message)")
        #expect(message.contains("unknown option '--nope'"), "\(message)")
        #expect(result.manifest.server == nil)

        harness.primaryFailure = .serverBinaryMissing(name: "mariadbd-nope", searched: ["/usr/sbin"])
        let (missing, _) = try await run(harness, Self.primaryPlan + "steps:\n  - {label: w, on: primary, sql: X}\n")
        #expect(missing.exitCode == 2)
    }

    @Test(
        "attach with a primary: steps on it wait for the replica; an attached server that is not a replica is refused"
    )
    func attachedPrimary() async throws {
        let harness = EngineHarness(attachedPrimary: true)
        let plan = """
            attach: {pid: 4242, socket: /tmp/r.sock, primary: {host: 127.0.0.1, port: 3307, catch_up_timeout: 1s}}
            steps:
              - {label: write, on: primary, sql: "INSERT 1"}
            """
        let (result, _) = try await run(harness, plan)
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        // snapctl sets nothing up on an attached replica.
        #expect(harness.server.state.withLock { $0.replication.statements }.isEmpty)
        #expect(!harness.primary.statements.contains { $0.hasPrefix("CREATE USER") })
        #expect(result.step("write")?.replica?.caughtUp == true)
        #expect(result.manifest.primary?.mode == "attached")

        let notReplica = EngineHarness(attachedPrimary: true)
        notReplica.server.state.withLock { $0.replication.configured = false }
        let (refused, _) = try await run(notReplica, plan)
        #expect(refused.exitCode == 4)
        #expect(refused.manifest.outcome.message?.contains("the attached server is not a replica") == true)
    }

    @Test("an attached replica still connecting to its primary is waited for; one that never connects is refused")
    func attachedReplicaConnecting() async throws {
        // The replica that connects has a long timeout: it is waited for only until it connects, and its
        // three 100 ms polls must not race the clock when other tests load the machine.
        func plan(timeout: String) -> String {
            """
            attach: {pid: 4242, socket: /tmp/r.sock, primary: {host: 127.0.0.1, port: 3307, catch_up_timeout: \(timeout)}}
            steps:
              - {label: write, on: primary, sql: "INSERT 1"}
            """
        }
        let connecting = EngineHarness(attachedPrimary: true)
        connecting.server.state.withLock { $0.replication.preparingFor = 3 }
        let (result, _) = try await run(connecting, plan(timeout: "60s"))
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        #expect(result.step("write")?.replica?.caughtUp == true)

        let stuck = EngineHarness(attachedPrimary: true)
        stuck.server.state.withLock { $0.replication.preparingFor = 1_000_000 }
        let (refused, _) = try await run(stuck, plan(timeout: "1s"))
        #expect(refused.exitCode == 4)
        let message = refused.manifest.outcome.message ?? ""
        #expect(message.contains("did not connect to the primary") && message.contains("Preparing"), "\(message)")
    }

    @Test("Ctrl-C while waiting for the replica: the step is interrupted at once, exit 130, both stopped")
    func interruptedCatchUp() async throws {
        let harness = EngineHarness()
        let scratch = try Scratch("replica-rules")
        defer { scratch.cleanup() }
        let directory = scratch.run
        let options = harness.options(
            try EngineHarness.plan(
                "primary: {catch_up_timeout: 60s}\nsteps:\n  - {label: write, on: primary, sql: STALL}\n"
            ),
            in: directory
        )
        let run = Task { try await Session.run(options) }
        // Wait until the step is waiting for the replica, then interrupt.
        while !harness.primary.statements.contains("STALL") { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        run.cancel()
        let result = try await run.value
        #expect(result.exitCode == 130)
        #expect(result.manifest.steps.first?.outcome == .interrupted)
        #expect(result.manifest.steps.first?.error?.message == "interrupted while waiting for the replica to catch up")
        #expect(harness.primary.isStopped)
        #expect(harness.server.state.withLock { $0.stopped })
    }

    @Test("how far behind: GTID lists compared per domain")
    func transactionsBehind() {
        #expect(ReplicaRules.transactionsBehind(replica: "0-1-5", primary: "0-1-12") == 7)
        #expect(ReplicaRules.transactionsBehind(replica: "", primary: "0-1-2,1-1-3") == 5)
        #expect(ReplicaRules.transactionsBehind(replica: "0-1-12", primary: "0-1-12") == 0)
        #expect(ReplicaRules.transactionsBehind(replica: "x", primary: "0-1-1") == nil)
        #expect(ReplicaRules.decimal(0.25) == "0.25")
        #expect(ReplicaRules.decimal(1) == "1")
    }
}
