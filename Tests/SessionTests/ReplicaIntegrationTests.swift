import Foundation
import MySQLServer
import Plan
import Report
import RunRecord
import TestSupport
import Testing

@testable import Session
@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// A replica profiled under Massif while its primary, a second real mariadbd started without valgrind,
/// writes row events; and every replication fault, each leaving both servers gone.
@Suite("a replica under Massif fed by a primary (integration)", .serialized)
struct ReplicaIntegrationTests {
    typealias Support = SessionTestSupport

    /// A password the test can look for: the run must never hold it.
    static let password = "Rq7xPasswordMarker4uZ"

    /// Loads a plan file as the CLI does and runs it with the known replication password.
    static func run(_ planFile: String, out: String) async throws -> SessionResult {
        let (plan, text) = try SessionCommand.loadPlan(planFile)
        var options = SessionOptions(plan: plan, planText: text, planSource: planFile, runDirectory: out)
        options.effects.replicationPassword = { Self.password }
        return try await Session.run(options)
    }

    /// Both servers are gone, nothing listens on the primary's port, no process mentions the run, the
    /// replica's private directory is removed, and no file of the run holds the replication password.
    static func expectBothGone(_ result: SessionResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try Support.expectFinalised(result, sourceLocation: sourceLocation)
        let manifest = result.manifest
        if let pid = manifest.primary?.pid {
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "primary pid \(pid) is alive", sourceLocation: sourceLocation)
        }
        if let address = manifest.primary?.address, let port = address.split(separator: ":").last.flatMap({ Int($0) }) {
            #expect(!LoopbackPort.isListening(port), "port \(port) still listens", sourceLocation: sourceLocation)
        }
        #expect(
            !FileManager.default.fileExists(atPath: result.runDirectory + "/primary"),
            "the primary's files are left",
            sourceLocation: sourceLocation
        )
        for option in manifest.server?.valgrindCommand ?? [] where option.hasPrefix("--master-info-file=") {
            let file = String(option.dropFirst("--master-info-file=".count))
            let directory = (file as NSString).deletingLastPathComponent
            #expect(
                !FileManager.default.fileExists(atPath: directory),
                "\(directory) is left",
                sourceLocation: sourceLocation
            )
        }
        #expect(
            filesHolding(password, under: result.runDirectory).isEmpty,
            "the replication password is in \(filesHolding(password, under: result.runDirectory))",
            sourceLocation: sourceLocation
        )
    }

    /// Every file under `directory` whose bytes contain `text`.
    static func filesHolding(_ text: String, under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        let needle = Data(text.utf8)
        var found: [String] = []
        while let next = enumerator.nextObject() as? String {
            if let data = FileManager.default.contents(atPath: directory + "/" + next), data.range(of: needle) != nil {
                found.append(next)
            }
        }
        return found
    }

    @Test(
        "examples/replica-filter.yaml: the replicated step grows the replica in replication code, the filtered one does not"
    )
    func replicaFilter() async throws {
        let scratch = try Scratch("rf")
        defer { scratch.cleanup() }
        let result = try await Self.run(repositoryRoot + "/examples/replica-filter.yaml", out: scratch.run)
        #expect(result.exitCode == 0, "\(result.manifest.outcome)")
        try Self.expectBothGone(result)

        let manifest = result.manifest
        let primary = try #require(manifest.primary)
        #expect(primary.mode == "managed")
        #expect(primary.address.hasPrefix("127.0.0.1:"))
        #expect(primary.command?.suffix(2).first == "--bind-address=127.0.0.1")
        #expect(primary.replicationUser == Replication.user)
        #expect(primary.startPosition?.isEmpty == false)
        #expect(primary.shutdown?.contains("SHUTDOWN") == true)
        #expect(manifest.server?.valgrindCommand.contains("--skip-networking") == true)
        #expect(manifest.server?.valgrindCommand.contains("--server-id=2") == true)

        // Both steps on the primary waited for the replica, which applied them.
        for label in ["replicated", "filtered"] {
            let step = try #require(result.step(label))
            #expect(step.on == "primary")
            let replica = try #require(step.replica)
            #expect(replica.caughtUp == true)
            #expect(replica.catchUpSeconds != nil)
            #expect(replica.isReplicating)
            #expect(replica.replicaPosition == replica.primaryPosition)
        }
        // The rows reached the replica (the count step expects one row, and it ran there).
        #expect(result.step("count-on-replica")?.outcome == .ok)
        #expect(result.step("count-on-replica")?.replica?.catchUpSeconds == nil)

        // mariadbd is stripped, but the exported names of replication code show in the paths: the rows of
        // app.orders were applied by Rows_log_event::do_apply_event, whose tables stay open after it.
        let report = result.report
        let replicated = try #require(report.steps.first { $0.label == "replicated" })
        let filtered = try #require(report.steps.first { $0.label == "filtered" })
        let applied = "Rows_log_event::do_apply_event"
        let growth = try #require(replicated.replicationGrowth)
        #expect(growth.bytes > 0, "\(growth)")
        #expect(growth.functions.contains { $0.hasPrefix(applied) }, "\(growth.functions)")
        #expect(replicated.sites.contains { site in site.path.contains { $0.hasPrefix(applied) } })
        // The filtered events were read and skipped: no growth is attributed to applying them.
        let skipped = try #require(filtered.replicationGrowth)
        #expect(!skipped.functions.contains { $0.hasPrefix(applied) }, "\(skipped.functions)")
        #expect(skipped.bytes < growth.bytes)
        #expect(!filtered.sites.contains { site in site.path.contains { $0.hasPrefix(applied) } })

        let text = try String(contentsOfFile: scratch.run + "/report.txt", encoding: .utf8)
        #expect(text.contains("primary:  mariadb"))
        #expect(text.contains("[1] replicated (sql on the primary)"))
        #expect(text.contains("replica: IO thread Yes, SQL thread Yes"))
        #expect(text.contains("replication code: +"))
        let html = try String(contentsOfFile: scratch.run + "/report.html", encoding: .utf8)
        #expect(html.contains("SQL on the primary"))
        #expect(html.contains("replication code"))
        let json = try String(contentsOfFile: scratch.run + "/report.json", encoding: .utf8)
        #expect(json.contains("\"seconds_behind_master\""))
    }

    @Test(
        "a managed primary listens on the loopback address, but root cannot log in there without a password; the socket still serves snapctl"
    )
    func primaryRootIsSocketOnly() async throws {
        let scratch = try Scratch("pr")
        defer { scratch.cleanup() }
        let text = "version: 1\nprimary: {}\nsteps: [{label: w, on: primary, sql: SELECT 1}]\n"
        let plan = try Plan.load(yaml: text, fileName: "plan.yaml")
        let request = SessionEffects.PrimaryRequest(
            primary: try #require(plan.primary),
            runDirectory: scratch.path,
            searchPath: nil,
            environment: nil
        )
        let primary = try #require(try await ServerProfiles.startPrimary(request).get() as? ManagedPrimary)
        let tcp = ConnectionOptions(name: "intruder", target: .tcp(host: "127.0.0.1", port: primary.port))
        var refusal = ""
        do {
            let connection = try await Connection.connect(tcp)
            await connection.close()
        } catch {
            refusal = "\(error)"
        }
        // Through the socket, as every session connects, root is in.
        var version: String?
        do {
            let connection = try await primary.connect(name: "snapctl", user: "root", password: nil, database: nil)
            version = try await connection.execute("SELECT VERSION()").value(at: 0)
            await connection.close()
        } catch {
            Issue.record("the socket connection failed: \(error)")
        }
        _ = await primary.stop()
        // No account matches a login from 127.0.0.1 until snapctl makes the replication user.
        #expect(refusal.contains("1130"), "root over 127.0.0.1 must be refused, got: \(refusal)")
        #expect(refusal.contains("Host '127.0.0.1' is not allowed to connect"), "\(refusal)")
        #expect(version?.contains("MariaDB") == true)
        #expect(primary.server.arguments.suffix(3).first == "--skip-name-resolve")
    }

    @Test("a primary that cannot start: its log tail is shown, the replica is never started, exit 4")
    func primaryFailsToStart() async throws {
        let scratch = try Scratch("rp")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "plan.yaml",
            """
            version: 1
            primary: {options: [--no-such-option-at-all]}
            steps:
              - {label: write, on: primary, sql: CREATE DATABASE d}
            """
        )
        let result = try await Self.run(plan, out: scratch.run)
        #expect(result.exitCode == 4)
        #expect(result.manifest.outcome.status == .startFailed)
        let message = result.manifest.outcome.message ?? ""
        #expect(message.hasPrefix("the primary could not be started"), "\(message)")
        #expect(message.contains("no-such-option-at-all"), "the log tail names the option: \(message)")
        #expect(message.contains("primary.err"), "\(message)")
        #expect(result.manifest.server == nil, "the replica was started")
        try Self.expectBothGone(result)
    }

    @Test("a replica that cannot connect: Last_IO_Error shown, exit 4, both servers gone")
    func replicaCannotConnect() async throws {
        let scratch = try Scratch("rc")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "plan.yaml",
            """
            version: 1
            primary: {options: [--skip-networking]}
            steps:
              - {label: write, on: primary, sql: CREATE DATABASE d}
            """
        )
        let result = try await Self.run(plan, out: scratch.run)
        #expect(result.exitCode == 4)
        #expect(result.manifest.outcome.status == .startFailed)
        let message = result.manifest.outcome.message ?? ""
        #expect(message.contains("the replica cannot connect to the primary at 127.0.0.1:"), "\(message)")
        #expect(message.contains("Last_IO_Error 2003"), "\(message)")
        #expect(result.step("write")?.outcome == .notRun)
        try Self.expectBothGone(result)
    }

    @Test("the replica's SQL thread stops on an error: the step fails with it, exit 4, the run finalised")
    func sqlThreadError() async throws {
        let scratch = try Scratch("rs")
        defer { scratch.cleanup() }
        // The table exists on the primary only (init_sql runs before replication starts).
        let plan = try scratch.write(
            "plan.yaml",
            """
            version: 1
            primary:
              init_sql: [CREATE DATABASE app, CREATE TABLE app.t (id INT PRIMARY KEY)]
            steps:
              - {label: write, on: primary, sql: "INSERT INTO app.t VALUES (1)"}
              - {label: never, sql: SELECT 1}
            """
        )
        let result = try await Self.run(plan, out: scratch.run)
        #expect(result.exitCode == 4)
        #expect(result.manifest.outcome.status == .stepFailed)
        let write = try #require(result.step("write"))
        #expect(write.outcome == .failed)
        let message = write.error?.message ?? ""
        // Statement-based by default: the INSERT itself fails on the replica, which lacks the table.
        #expect(message.contains("the replica's SQL thread stopped on error 1146"), "\(message)")
        #expect(message.contains("Table 'app.t' doesn't exist"), "\(message)")
        #expect(write.replica?.sqlRunning == "No")
        #expect(write.replica?.lastSQLErrno == 1146)
        #expect(write.replica?.caughtUp == false)
        #expect(result.step("never")?.outcome == .notRun)
        // The after snapshot was still taken: the heap the failure left is part of the answer.
        #expect(result.manifest.snapshots.contains { $0.step == "write" && $0.phase == .after })
        try Self.expectBothGone(result)
    }

    @Test("a replica that does not catch up in time: the step fails saying how far behind it was")
    func catchUpTimeout() async throws {
        let scratch = try Scratch("rt")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "plan.yaml",
            """
            version: 1
            primary:
              init_sql: [CREATE DATABASE app, CREATE TABLE app.t (id INT PRIMARY KEY)]
            server:
              init_sql: [CREATE DATABASE app, CREATE TABLE app.t (id INT PRIMARY KEY)]
            steps:
              - {label: pause, sql: STOP SLAVE SQL_THREAD}
              - label: write
                on: primary
                sql: ["INSERT INTO app.t VALUES (1)", "INSERT INTO app.t VALUES (2)"]
                catch_up_timeout: 1s
            """
        )
        let result = try await Self.run(plan, out: scratch.run)
        #expect(result.exitCode == 4)
        let write = try #require(result.step("write"))
        #expect(write.outcome == .failed)
        let message = write.error?.message ?? ""
        #expect(message.contains("the replica did not catch up within 1s"), "\(message)")
        #expect(message.contains("(2 transactions behind)"), "\(message)")
        #expect(message.contains("SQL thread No"), "\(message)")
        #expect(message.contains("raise catch_up_timeout"), "\(message)")
        #expect(write.replica?.caughtUp == false)
        #expect(write.replica?.primaryPosition != write.replica?.replicaPosition)
        try Self.expectBothGone(result)
    }
}

extension SessionResult {
    fileprivate func step(_ label: String) -> StepRecord? { manifest.steps.first { $0.label == label } }
}
