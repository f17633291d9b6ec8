import Foundation
import TestSupport
import Testing
import Valgrind

@testable import MySQLServer

@Suite("MariaDB under valgrind Massif (integration)", .serialized)
struct ServerIntegrationTests {
    @Test("a launched server runs SQL, and shutdown keeps Massif's final file and leaves no process")
    func launchQueryShutdown() async throws {
        let run = try Scratch("ok")
        defer { run.cleanup() }
        let events = EventLog()
        let server = try await ManagedServer.launch(LaunchOptions(runDirectory: run.path)) { events.append($0) }
        let outcome: ShutdownOutcome
        do {
            #expect(server.flavor == .mariadb)
            #expect(server.valgrindCommand.arguments.contains("--vgdb=yes"))
            #expect(server.valgrindPID > 0)
            #expect(VgdbEndpoint.scan(prefix: server.vgdbPrefix).contains { $0.pid == server.valgrindPID })
            let pidFile = try String(contentsOfFile: server.layout.pidFile, encoding: .utf8)
            #expect(Int32(pidFile.trimmingCharacters(in: .whitespacesAndNewlines)) == server.valgrindPID)
            let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server.valgrindPID)/exe")
            #expect(exe.contains("valgrind") || exe.contains("memcheck") || exe.contains("massif"))
            // glibc's copy thresholds reach the process, and the printed command carries them.
            let tunables = FileIO.environmentValue(pid: server.valgrindPID, name: GuestTunables.variable)
            #expect(
                GuestTunables.isApplied(tunables),
                "GLIBC_TUNABLES of pid \(server.valgrindPID): \(tunables ?? "unset")"
            )
            #expect(server.valgrindCommand.description.hasPrefix("GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold="))
            // The start options reach the running valgrind (3.19 here), and the server started with them.
            let words = FileIO.commandLine(pid: server.valgrindPID) ?? []
            #expect(words.contains("--vex-guest-chase=no"), "valgrind's command line: \(words)")

            let connection = try await server.connect(name: "main")
            let created = try await connection.execute("CREATE DATABASE app")
            #expect(created.affectedRows == 1)
            _ = try await connection.execute("CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))")
            let inserted = try await connection.execute("INSERT INTO app.t VALUES (1, 'one'), (2, NULL)")
            #expect(inserted.affectedRows == 2)
            let selected = try await connection.execute("SELECT id, v FROM app.t ORDER BY id")
            #expect(selected.columns == ["id", "v"])
            #expect(selected.rows == [["1", "one"], ["2", nil]])
            let warned = try await connection.execute("SELECT CAST('x' AS INT)")
            #expect(warned.warningCount == 1)
            await connection.close()

            let attributes = try FileManager.default.attributesOfItem(atPath: server.layout.serverDirectory)
            #expect((attributes[.posixPermissions] as? Int) == 0o700)
        } catch {
            _ = await server.shutdown()
            throw error
        }
        outcome = await server.shutdown()
        #expect(outcome.method == .sqlShutdown)
        #expect(outcome.exit == .exited(0))
        #expect(outcome.massifFinalFilePresent)
        let final = try String(contentsOfFile: server.massifFinalFile, encoding: .utf8)
        #expect(final.hasPrefix("desc:"))
        #expect(outcome.processGroupGone)
        #expect(processesInGroup(server.processGroupID).isEmpty)
        #expect(VgdbEndpoint.files(pid: server.valgrindPID, prefix: server.vgdbPrefix).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: server.socketPath))
        #expect(events.contains { if case .ready = $0 { return true } else { return false } })
        #expect(events.contains { if case .started = $0 { return true } else { return false } })
        print("startup \(server.startupDuration), shutdown \(outcome.seconds) s")

        // A second shutdown reports the same outcome; then the datadir can go.
        #expect(await server.shutdown() == outcome)
        try await server.removeDatadir()
        #expect(!FileManager.default.fileExists(atPath: server.layout.datadir))
    }
}

/// Collects launch progress events from the launch's callback.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [LaunchProgress] = []

    func append(_ event: LaunchProgress) { lock.withLock { events.append(event) } }
    func contains(where predicate: (LaunchProgress) -> Bool) -> Bool {
        lock.withLock { events.contains(where: predicate) }
    }
    func snapshot() -> [LaunchProgress] { lock.withLock { events } }
}
