import Foundation
import TestSupport
import Testing

@testable import MySQLServer

/// Launches a server for one test and always shuts it down afterwards, even if the test body throws.
func withManagedServer(
    _ label: String,
    options: (String) -> LaunchOptions = { LaunchOptions(runDirectory: $0) },
    _ body: (ManagedServer, Scratch) async throws -> Void
) async throws {
    let run = try Scratch(label)
    defer { run.cleanup() }
    let server = try await ManagedServer.launch(options(run.path))
    do {
        try await body(server, run)
    } catch {
        _ = await server.shutdown()
        throw error
    }
    _ = await server.shutdown()
}
