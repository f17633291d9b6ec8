import Foundation
import MySQLServer
import RunRecord
import Session
import TestSupport
import Testing
import Valgrind

@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// Attach mode, expectations, sql_file, and an environment that is not ready.
@Suite("snapctl session: attach, expectations, environment (integration)", .serialized)
struct SessionModesTests {
    typealias Support = SessionTestSupport

    @Test("attach mode profiles a server it did not start and leaves it running")
    func attach() async throws {
        let scratch = try Scratch("att")
        defer { scratch.cleanup() }
        let server = try await ManagedServer.launch(LaunchOptions(runDirectory: scratch.path + "/srv"))
        do {
            let setup = try await server.connect(name: "setup")
            _ = try await setup.execute("CREATE DATABASE app")
            await setup.close()
            let plan = try scratch.write(
                "att.yaml",
                """
                version: 1
                name: att
                attach: {pid: \(server.valgrindPID), vgdb_prefix: \(server.vgdbPrefix), socket: \(server.socketPath)}
                connections: [{name: main, database: app}]
                steps:
                  - label: table
                    sql: CREATE TABLE app.a (id INT) ENGINE=MEMORY
                  - label: fill
                    sql: INSERT INTO app.a SELECT seq FROM seq_1_to_1000
                """
            )
            let result = try await Support.run(planFile: plan, out: scratch.run)
            #expect(result.exitCode == 0, "\(result.manifest.outcome)")
            let manifest = try RunChecks.manifest(scratch.run)
            #expect(manifest.server?.mode == "attached")
            #expect(manifest.server?.pid == server.valgrindPID)
            #expect(manifest.steps.map(\.outcome) == [.ok, .ok])
            #expect(manifest.snapshots.count == 5)
            try RunChecks.verifyChecksums(scratch.run)
            // The server runs on, and a new monitor session can attach: the relay was detached.
            try await server.checkAlive()
            let monitor = try await MonitorSession.connect(pid: server.valgrindPID, prefix: server.vgdbPrefix)
            await monitor.close()
        } catch {
            _ = await server.shutdown()
            throw error
        }
        let outcome = await server.shutdown()
        #expect(outcome.processGroupGone)
    }

    @Test("expected errors by SQLSTATE go on, sql_file is read relative to the plan, an unmet expectation fails")
    func expectations() async throws {
        let scratch = try Scratch("exp")
        defer { scratch.cleanup() }
        try FileManager.default.createDirectory(atPath: scratch.path + "/sql", withIntermediateDirectories: true)
        _ = try scratch.write(
            "sql/load.sql",
            "CREATE TABLE app.l (id INT);\n-- two rows\nINSERT INTO app.l VALUES (1), (2);\nSELECT * FROM app.l;\n"
        )
        let plan = try scratch.write(
            "exp.yaml",
            """
            version: 1
            name: exp
            server: {init_sql: [CREATE DATABASE app]}
            snapshots: {default: light}
            steps:
              - label: missing
                sql: SELECT * FROM app.nope
                expect: {error: "42S02"}
              - label: load
                sql_file: sql/load.sql
                expect: {rows: 2}
              - label: wrong-count
                sql: SELECT 1
                expect: {rows: 2}
              - label: never
                sql: SELECT 1
            """
        )
        let result = try await Support.run(planFile: plan, out: scratch.run)
        #expect(result.exitCode == 4)
        try Support.expectFinalised(result)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.steps.map(\.outcome) == [.expectedError, .ok, .failed, .notRun])
        #expect(manifest.steps[0].error?.expected == true)
        #expect(manifest.steps[0].error?.sqlState == "42S02")
        #expect(manifest.steps[1].file == "sql/load.sql")
        #expect(manifest.steps[1].sql?.count == 3)
        #expect(manifest.steps[1].rows == 2)
        #expect(manifest.steps[2].error?.message == "expected 2 rows, got 1")
        #expect(manifest.outcome.step == "wrong-count")
    }

    @Test("valgrind missing: exit 2, the record says why, nothing is left running")
    func environmentNotReady() async throws {
        let scratch = try Scratch("env")
        defer { scratch.cleanup() }
        let plan = try scratch.write("env.yaml", "version: 1\nname: env\nsteps:\n  - {label: a, sql: SELECT 1}\n")
        let empty = scratch.path + "/empty-path"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let status = await Support.exitStatus([
            "session", plan, "--out", scratch.run, "--search-path", empty, "--quiet",
        ])
        #expect(status == 2)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.outcome.status == .startFailed)
        #expect(manifest.outcome.exitCode == 2)
        #expect(manifest.outcome.message?.contains("valgrind") == true)
        #expect(manifest.steps.map(\.outcome) == [.notRun])
        try RunChecks.verifyChecksums(scratch.run)
    }
}
