import Foundation
import Massif
import Report
import RunRecord
import Session
import Synchronization
import TestSupport
import Testing

@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// Sessions against a real MariaDB under Valgrind Massif.
@Suite("snapctl session against MariaDB under Massif (integration)", .serialized)
struct SessionIntegrationTests {
    typealias Support = SessionTestSupport

    @Test("examples/quickstart.yaml: every step answered, the run directory complete and consistent")
    func quickstart() async throws {
        let scratch = try Scratch("qs")
        defer { scratch.cleanup() }
        let events = Events()
        let result = try await Support.run(
            planFile: repositoryRoot + "/examples/quickstart.yaml",
            out: scratch.run,
            events: events
        )
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.outcome.status == .completed)
        #expect(manifest.server?.mode == "managed")
        #expect(manifest.server?.valgrindCommand.contains("--vgdb=yes") == true)
        #expect((manifest.server?.envelope?.total ?? 0) > 0)
        #expect(manifest.steps.map(\.outcome) == [.ok, .ok, .ok, .ok, .ok, .ok, .expectedError])
        #expect(manifest.steps[6].error?.code == 1146)
        #expect(manifest.steps[1].rows == 20000)

        // Before and after each step, the snap step's own, the sort's during snapshots and the final one.
        let phases = manifest.snapshots.map(\.phase)
        #expect(phases.filter { $0 == .before }.count == 6)
        #expect(phases.filter { $0 == .after }.count == 6)
        #expect(phases.filter { $0 == .snap }.count == 1)
        #expect(phases.last == .final)
        #expect(manifest.snapshots.map(\.id) == manifest.snapshots.indices.map { $0 + 1 })
        for record in manifest.snapshots {
            #expect(FileManager.default.fileExists(atPath: scratch.run + "/" + record.file))
            // Counters at every snapshot but the timer's (they would compete with the step for the big lock).
            if record.phase == .during {
                #expect(record.counters == nil)
            } else {
                #expect(record.counters?.memoryUsed != nil)
                #expect(record.counters?.processlist?.isEmpty == false)
            }
            #expect(record.kind == (record.phase == .during ? .light : .detailed))
        }

        // The MEMORY table shows up as growth in its step, and goes when it is dropped.
        let report = result.report
        let fill = try #require(report.steps.first { $0.label == "fill-memory-table" })
        #expect((fill.delta ?? 0) > 1_000_000)
        #expect(fill.sites.first.map { $0.delta > 1_000_000 } == true)
        #expect(fill.sites.first?.path.contains { $0.contains("ha_write_row") } == true)
        let drop = try #require(report.steps.first { $0.label == "drop-memory-table" })
        #expect((drop.delta ?? 0) < -1_000_000)
        #expect(report.budgets.count == 1 && report.budgets[0].passed)

        // The timeline holds every labelled snapshot, in order, and maps back to the manifest.
        let timelineText = try String(contentsOfFile: scratch.run + "/timeline.massif", encoding: .utf8)
        let timeline = try MassifFile.parse(timelineText, fileName: "timeline.massif")
        #expect(timeline.snapshots.count == manifest.snapshots.count)
        // The plan names no time unit: Massif counted bytes (no instruction counter in every block), and a
        // later snapshot never has an earlier time.
        #expect(timeline.header.timeUnit == .bytes)
        #expect(zip(timeline.snapshots, timeline.snapshots.dropFirst()).allSatisfy { $0.time <= $1.time })
        #expect(timeline.snapshots.last.map { $0.time > 0 } == true)
        for record in manifest.snapshots {
            #expect(timeline.snapshots[record.timelineIndex].heapBytes == record.heapBytes)
        }
        // ms_print reads it, and sha256sum agrees with SHA256SUMS.
        let printed = try await Self.shell("cd \(scratch.run) && ms_print timeline.massif && echo ms_print-ok")
        #expect(printed.contains("ms_print-ok"))
        #expect(printed.contains("Detailed snapshots"))
        let checked = try await Self.shell("cd \(scratch.run) && sha256sum --quiet -c SHA256SUMS && echo sums-ok")
        #expect(checked.contains("sums-ok"))
        let final = try #require(manifest.massifFinal)
        #expect(final.snapshots > 0)

        // `snapctl report RUN` renders exactly what the session wrote.
        let written = try String(contentsOfFile: scratch.run + "/report.txt", encoding: .utf8)
        #expect(try ReportCommand.load(scratch.run).report().text() == written)
        #expect(written.contains("fill-memory-table"))
        #expect(written.contains("configured envelope"))

        // The terminal got a line per step.
        let finished = events.all.filter { if case .stepFinished = $0 { return true } else { return false } }
        #expect(finished.count == 7)
    }

    @Test("an unexpected SQL error stops the run with exit 4 and the record says which step and why")
    func unexpectedSQLError() async throws {
        let scratch = try Scratch("err")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "err.yaml",
            """
            version: 1
            name: err
            snapshots: {default: light}
            steps:
              - label: fine
                sql: SELECT 1
              - label: broken
                sql: [SELECT 1, SELECT * FROM no_such_db.t]
              - label: never
                sql: SELECT 2
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 4)
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.outcome.status == .stepFailed)
        #expect(manifest.outcome.step == "broken")
        #expect(manifest.outcome.message?.contains("no_such_db") == true)
        #expect(manifest.steps.map(\.outcome) == [.ok, .failed, .notRun])
        let error = try #require(manifest.steps[1].error)
        #expect(error.code == 1146)
        #expect(error.statement == "SELECT * FROM no_such_db.t")
        #expect(!error.expected)
        // The failed step still has its after snapshot: the heap the failure left is part of the answer.
        #expect(manifest.snapshots(ofStep: "broken").map(\.phase) == [.before, .after])
        #expect(result.report.text().contains("step_failed"))
    }

    @Test("a step past its timeout is killed with KILL QUERY, exit 4, and the server is shut down")
    func stepTimeout() async throws {
        let scratch = try Scratch("tmo")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "tmo.yaml",
            """
            version: 1
            name: tmo
            snapshots: {default: light}
            steps:
              - label: slow
                sql: SELECT SLEEP(600)
                timeout: 1s
              - label: never
                sql: SELECT 1
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 4)
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.steps.map(\.outcome) == [.timedOut, .notRun])
        #expect(manifest.steps[0].error?.message.contains("KILL QUERY") == true)
        #expect(manifest.outcome.status == .stepFailed)
        #expect(manifest.server?.shutdown?.contains("SQL SHUTDOWN") == true)
    }

    @Test("a shell step past its timeout: its process group is torn down, exit 4")
    func shellTimeout() async throws {
        let scratch = try Scratch("sht")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "sht.yaml",
            """
            version: 1
            name: sht
            snapshots: {default: none}
            steps:
              - label: stuck
                shell: sleep 613.37 & sleep 613.38; wait
                timeout: 1s
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 4)
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.steps[0].outcome == .timedOut)
        #expect(processesMentioning("sleep 613.3").isEmpty)
    }

    @Test("the server SIGKILLed mid-step: exit 4, the record and the logs are kept")
    func serverKilledMidStep() async throws {
        let scratch = try Scratch("kill")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "kill.yaml",
            """
            version: 1
            name: kill
            snapshots: {default: light}
            steps:
              - label: warm
                sql: SELECT 1
              - label: victim
                shell: kill -9 "$SNAPCTL_PID"; sleep 600
                timeout: 60s
              - label: never
                sql: SELECT 1
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 4)
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.outcome.status == .serverDied)
        #expect(manifest.outcome.step == "victim")
        #expect(manifest.steps[1].outcome == .serverDied)
        #expect(
            manifest.outcome.message?.contains("SIGKILL") == true
                || manifest.outcome.message?.contains("signal 9") == true
        )
        #expect(manifest.steps[0].outcome == .ok)
        #expect(manifest.steps[2].outcome == .notRun)
        for log in ["logs/server.err", "logs/valgrind.log"] {
            #expect(FileManager.default.fileExists(atPath: scratch.run + "/" + log))
        }
        // Massif writes no final file when killed; the record says so.
        #expect(manifest.massifFinal == nil)
        #expect(manifest.warnings.contains { $0.contains("massif.final.out") })
    }

    @Test("a SQL statement running when the server is SIGKILLed: the step is server_died, exit 4")
    func serverKilledDuringSQL() async throws {
        let scratch = try Scratch("kill2")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "kill2.yaml",
            """
            version: 1
            name: kill2
            snapshots: {default: none}
            steps:
              - label: victim
                sql: SELECT SLEEP(600)
            """
        )
        let pid = Mutex<Int32?>(nil)
        let result = try await Support.run(planFile: plan, out: scratch.run) { event in
            switch event {
            case .serverReady(let serverPID, _, _): pid.withLock { $0 = serverPID }
            case .stepStarted(_, _, "victim"):
                // Once the statement is running on the server, kill it from outside.
                let target = pid.withLock { $0 }
                Task.detached {
                    let socket = scratch.run + "/server/mysqld.sock"
                    while true {
                        let output = try? await Self.shell(
                            "mariadb --socket=\(socket) -uroot -N -e \"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP%'\""
                        )
                        if output?.hasPrefix("1") == true { break }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                    if let target { kill(target, SIGKILL) }
                }
            default: break
            }
        }
        #expect(result.exitCode == 4)
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.steps[0].outcome == .serverDied)
        #expect(manifest.outcome.status == .serverDied)
        #expect(manifest.outcome.step == "victim")
        #expect(manifest.outcome.message?.contains("SIGKILL") == true)
    }

    /// What `sh -c COMMAND` printed on stdout.
    static func shell(_ command: String) async throws -> String {
        try await Programs.run("/bin/sh", ["-c", command], signal: nil).stdout
    }

    @Test("cancellation (Ctrl-C) mid-step: the query is killed, exit 130, the run directory finalised")
    func interruptedMidStep() async throws {
        let scratch = try Scratch("int")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "int.yaml",
            """
            version: 1
            name: int
            snapshots: {default: light}
            steps:
              - label: first
                sql: SELECT 1
              - label: long
                sql: SELECT SLEEP(600)
              - label: never
                sql: SELECT 1
            """
        )
        let task = Mutex<Task<SessionResult, any Error>?>(nil)
        let started = TestFlag()
        let ended = TestFlag()
        let running = Task {
            defer { ended.set() }
            return try await Support.run(planFile: plan, out: scratch.run) { event in
                if case .stepStarted(_, _, "long") = event { started.set() }
            }
        }
        task.withLock { $0 = running }
        // Cancel once the long step has begun (what Interrupts does on SIGINT).
        while !started.isSet && !ended.isSet { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(300))
        running.cancel()
        let result = try await running.value
        #expect(result.exitCode == 130)
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.outcome.status == .interrupted)
        #expect(manifest.steps.map(\.outcome) == [.ok, .interrupted, .notRun])
        #expect(manifest.server?.shutdown != nil)
    }

    @Test("cancellation while the server starts: exit 130, the server stopped, the run directory finalised")
    func interruptedDuringStartup() async throws {
        let scratch = try Scratch("intstart")
        defer { scratch.cleanup() }
        let plan = try scratch.write("p.yaml", "version: 1\nname: intstart\nsteps:\n  - {label: a, sql: SELECT 1}\n")
        let started = TestFlag()
        let ended = TestFlag()
        let running = Task {
            defer { ended.set() }
            return try await Support.run(planFile: plan, out: scratch.run) { event in
                if case .launch(.started) = event { started.set() }
            }
        }
        while !started.isSet && !ended.isSet { try await Task.sleep(for: .milliseconds(10)) }
        running.cancel()
        let result = try await running.value
        #expect(result.exitCode == 130)
        #expect(result.manifest.outcome.status == .interrupted)
        #expect(result.manifest.steps.map(\.outcome) == [.notRun])
        try Support.expectFinalised(result)
    }

    @Test("a repeat step that grows every round is flagged as a leak, a max_growth is exceeded: exit 3")
    func leakAndBudgets() async throws {
        let scratch = try Scratch("leak")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "leak.yaml",
            """
            version: 1
            name: leak
            server: {init_sql: [CREATE DATABASE app]}
            connections: [{name: main, database: app}]
            leak: {min_growth: 256KiB}
            budget: {max_heap: 1TiB}
            steps:
              - label: table
                sql: CREATE TABLE m (id INT, v CHAR(200)) ENGINE=MEMORY
              - label: fill
                sql: INSERT INTO m SELECT seq, REPEAT('x', 200) FROM seq_1_to_2000
                budget: {max_growth: 1MiB}
              - label: grow
                repeat: 5
                sql: SET @a = CONCAT(IFNULL(@a, ''), REPEAT('y', 100000))
                budget: {max_growth: 64MiB}
              - label: steady
                repeat: 4
                sql: SELECT COUNT(*) FROM m
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 3, "\(result.manifest.outcome)")
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.outcome.status == .completed)
        #expect(manifest.outcome.exitCode == 3)
        #expect(manifest.outcome.message?.contains("leak in grow") == true)
        #expect(manifest.outcome.message?.contains("max_growth of fill") == true)
        #expect(
            manifest.snapshots(ofStep: "grow").filter { $0.phase == .after }.compactMap(\.round) == [1, 2, 3, 4, 5]
        )
        let leak = try #require(result.report.leaks.first { $0.step == "grow" })
        #expect(leak.flagged)
        #expect(leak.growingRounds == 4)
        #expect(leak.growth >= 256 * 1024)
        #expect(!leak.sites.isEmpty)
        let steady = try #require(result.report.leaks.first { $0.step == "steady" })
        #expect(!steady.flagged)
        let fill = try #require(result.report.budgets.first { $0.step == "fill" })
        #expect(!fill.passed)
        let grow = try #require(result.report.budgets.first { $0.step == "grow" })
        #expect(grow.passed)
        let heap = try #require(result.report.budgets.first { $0.budget == "max_heap" })
        #expect(heap.passed)
        #expect(result.report.text().contains("LEAK leak check of grow"))
    }

    @Test("during snapshots on a timer, parallel connections, a shell step with SNAPCTL_SOCKET")
    func duringParallelShell() async throws {
        let scratch = try Scratch("dps")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "dps.yaml",
            """
            version: 1
            name: dps
            observe: [memory_used, processlist, global_status]
            steps:
              - label: wait
                sql: SELECT SLEEP(2)
                snapshots: {before: light, after: light, during: 100ms}
              - label: many
                parallel: {connections: 4, sql: SELECT SLEEP(0.5)}
                expect: {rows: 1}
              - label: ping
                shell: mariadb-admin --socket="$SNAPCTL_SOCKET" -uroot ping
              - label: pause
                sleep: 10ms
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.steps.map(\.outcome) == [.ok, .ok, .ok, .ok])
        let during = manifest.snapshots(ofStep: "wait").filter { $0.phase == .during }
        #expect(!during.isEmpty)
        #expect(during.allSatisfy { $0.kind == .light })
        #expect(manifest.steps[1].rows == 4)
        #expect(manifest.steps[1].parallelConnections == 4)
        #expect(manifest.snapshots.first?.counters?.globalStatus?["Uptime"] != nil)
        let log = try String(contentsOfFile: scratch.run + "/logs/step-0003-ping.log", encoding: .utf8)
        #expect(log.contains("is alive"))
        #expect(manifest.steps[2].exitStatus != nil)
    }
}
