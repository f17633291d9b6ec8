import Foundation
import Testing

@testable import MySQLServer

/// MariaDB deletes every `#sql*` file in its tmpdir when it starts; a server sharing /tmp would delete
/// other servers' temporary tables. Each managed server gets RUN/server/tmp instead.
@Suite("Private tmpdir", .serialized)
struct PrivateTmpdirTests {
    @Test func startingAServerLeavesOtherServersTemporaryFilesAlone() async throws {
        let probe = "/tmp/#sql-snapctl-probe-\(getpid()).MAI"
        FileManager.default.createFile(atPath: probe, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: probe) }
        try await withManagedServer("tmpdir") { server, run in
            #expect(server.serverFlags.ours.contains("--tmpdir=\(run.path)/server/tmp"))
            let connection = try await server.connect(name: "main")
            // information_schema queries use internal temporary tables in the tmpdir.
            _ = try await connection.execute("SELECT COUNT(*) FROM information_schema.COLUMNS")
            await connection.close()
        }
        #expect(FileManager.default.fileExists(atPath: probe), "the server deleted a #sql file in the shared /tmp")
    }
}
