import Foundation
import Testing
import Valgrind

@testable import MySQLServer

/// The two halves together: a managed MariaDB under Massif, snapshotted through snapctl's own GDB remote
/// client while SQL runs, then shut down with Massif's final file kept and nothing left behind.
@Suite("Snapshots of a managed server through the GDB remote client", .serialized)
struct SnapshotThroughRelayTests {
    @Test func snapshotsBeforeAndAfterSQLShowTheGrowth() async throws {
        try await withManagedServer("relay") { server, run in
            let monitor = try await MonitorSession.connect(pid: server.valgrindPID, prefix: server.vgdbPrefix)
            let before = run.path + "/before.massif"
            let after = run.path + "/after.massif"
            try await monitor.detailedSnapshot(to: before)
            let connection = try await server.connect(name: "main")
            _ = try await connection.execute("CREATE DATABASE app")
            _ = try await connection.execute("USE app")
            _ = try await connection.execute("CREATE TABLE app.m (id INT PRIMARY KEY, v CHAR(200)) ENGINE=MEMORY")
            _ = try await connection.execute(
                "INSERT INTO app.m SELECT seq, REPEAT('x', 200) FROM seq_1_to_20000"
            )
            try await monitor.detailedSnapshot(to: after)
            await connection.close()
            await monitor.close()

            let beforeText = try String(contentsOfFile: before, encoding: .utf8)
            let afterText = try String(contentsOfFile: after, encoding: .utf8)
            #expect(beforeText.contains("heap_tree=detailed"))
            #expect(afterText.contains("cmd: /usr/sbin/mariadbd") || afterText.contains("mariadbd"))
            // 20,000 rows of about 200 bytes in a MEMORY table: the heap grows by megabytes.
            let grown = try heap(afterText) - heap(beforeText)
            #expect(grown > 3_000_000, "heap grew by only \(grown) bytes")
            #expect(await monitor.warnings.isEmpty)
        }
    }

    private func heap(_ text: String) throws -> Int {
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("mem_heap_B=") })
        return try #require(Int(line.dropFirst("mem_heap_B=".count)))
    }
}
