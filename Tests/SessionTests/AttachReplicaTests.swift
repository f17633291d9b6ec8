import Foundation
import MySQLServer
import RunRecord
import Session
import TestSupport
import Testing

@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// `attach: {..., primary: {...}}`: a replica someone else started under valgrind, already replicating
/// from a running primary; snapctl runs steps on the primary and snapshots the replica.
@Suite("snapctl session: attach to a replica with its primary (integration)", .serialized)
struct AttachReplicaTests {
    @Test("steps on the attached primary are waited for on the attached replica; both run on afterwards")
    func attachReplica() async throws {
        let scratch = try Scratch("ar")
        defer { scratch.cleanup() }
        let port = try LoopbackPort.pick()
        let primary = try await NativeServer.launch(
            NativeLaunchOptions(
                runDirectory: scratch.path + "/p",
                role: "primary",
                leadingOptions: ["--server-id=1", "--log-bin=primary-bin"],
                trailingOptions: ["--bind-address=127.0.0.1", "--port=\(port)"]
            )
        )
        let replica: ManagedServer
        do {
            replica = try await ManagedServer.launch(
                LaunchOptions(runDirectory: scratch.path + "/r", serverOptions: ["--server-id=2"])
            )
        } catch {
            _ = await primary.shutdown()
            throw error
        }
        func stopBoth() async {
            _ = await replica.shutdown()
            _ = await primary.shutdown()
        }
        do {
            let onPrimary = try await primary.connect(name: "setup")
            for statement in [
                "SET SESSION sql_log_bin=0", "CREATE USER 'r'@'127.0.0.1' IDENTIFIED BY 'attach-repl-5'",
                "GRANT REPLICATION SLAVE ON *.* TO 'r'@'127.0.0.1'", "SET SESSION sql_log_bin=1",
            ] {
                _ = try await onPrimary.execute(statement)
            }
            let position = try await onPrimary.execute("SELECT @@gtid_binlog_pos").rows.first?.first ?? ""
            await onPrimary.close()
            let onReplica = try await replica.connect(name: "setup")
            for statement in [
                "SET GLOBAL gtid_slave_pos='\(position ?? "")'",
                "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=\(port), MASTER_USER='r', "
                    + "MASTER_PASSWORD='attach-repl-5', MASTER_USE_GTID=slave_pos",
                "START SLAVE",
            ] {
                _ = try await onReplica.execute(statement)
            }
            await onReplica.close()

            let planFile = try scratch.write(
                "attach.yaml",
                """
                version: 1
                name: attached-replica
                attach:
                  pid: \(replica.valgrindPID)
                  vgdb_prefix: \(replica.vgdbPrefix)
                  socket: \(replica.socketPath)
                  primary: {socket: \(primary.socketPath), catch_up_timeout: 60s}
                observe: []
                steps:
                  - {label: schema, on: primary, sql: ["CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY)"]}
                  - {label: rows, on: primary, sql: "INSERT INTO app.t SELECT seq FROM app.seq_1_to_2000"}
                  - {label: check, sql: SELECT COUNT(*) FROM app.t HAVING COUNT(*) = 2000, expect: {rows: 1}}
                """
            )
            let (plan, text) = try SessionCommand.loadPlan(planFile)
            let result = try await Session.run(
                SessionOptions(plan: plan, planText: text, planSource: planFile, runDirectory: scratch.run)
            )
            #expect(result.exitCode == 0, "\(result.manifest.outcome)")
            #expect(result.manifest.server?.mode == "attached")
            #expect(result.manifest.primary?.mode == "attached")
            #expect(
                result.manifest.primary?.address.contains(primary.socketPath) == true
            )
            for label in ["schema", "rows"] {
                let step = try #require(result.manifest.steps.first { $0.label == label })
                #expect(step.on == "primary")
                #expect(step.replica?.caughtUp == true, "\(String(describing: step.replica))")
            }
            #expect(result.manifest.steps.first { $0.label == "check" }?.outcome == .ok)
            // Attached servers run on after the run: snapctl stops neither.
            try await replica.checkAlive()
            #expect(await primary.death() == nil)
        } catch {
            await stopBoth()
            throw error
        }
        await stopBoth()
        #expect(!LoopbackPort.isListening(port))
    }
}
