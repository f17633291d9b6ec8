import Foundation
import Testing

@testable import MySQLServer

/// A fresh run directory under /tmp, short enough for the socket path, removed by `cleanup()`.
struct TemporaryRunDirectory {
    let path: String

    init(_ label: String = "t") throws {
        let template = "/tmp/snapctl-\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil, "mkdtemp failed for \(template)")
        path = String(cString: made!)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Processes in the given process group (from /proc), to prove a group is gone.
func processesInGroup(_ pgid: Int32) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap(Int32.init).filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state, ppid, pgrp.
        return fields.count > 2 && Int32(fields[2]) == pgid
    }
}

/// Launches a server for one test and always shuts it down afterwards, even if the test body throws.
func withManagedServer(
    _ label: String,
    options: (String) -> LaunchOptions = { LaunchOptions(runDirectory: $0) },
    _ body: (ManagedServer, TemporaryRunDirectory) async throws -> Void
) async throws {
    let run = try TemporaryRunDirectory(label)
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
