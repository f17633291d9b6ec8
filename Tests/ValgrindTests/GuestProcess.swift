import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs a tool found on PATH to its end and returns its status and output (stdout then stderr).
func runTool(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let result = try await Programs.run("/usr/bin/env", [name] + arguments, signal: nil)
    return (result.status, result.stdout + result.stderr)
}

/// Compiles the idle test server once per test process.
actor IdleServerBinary {
    static let shared = IdleServerBinary()
    private var path: String?

    func get() async throws -> String {
        if let path { return path }
        let dir = try Scratch.forProcess("cc").path
        let out = dir + "/idle_server"
        let (status, output) = try await runTool(
            "cc",
            ["-O0", "-g", "-pthread", repositoryRoot + "/Tests/Programs/idle_server.c", "-o", out]
        )
        guard status == 0 else { throw TestFailure("cc failed (is gcc installed? scripts/setup): \(output)") }
        path = out
        return out
    }
}

/// A small program under `valgrind --tool=massif --vgdb=yes` with a private prefix: several threads blocked
/// in read(), like an idle server. SIGUSR1 makes it exit with `exitStatus`; SIGUSR2 makes it allocate 1 MiB.
final class GuestProcess: @unchecked Sendable {
    let pid: Int32
    let directory: String
    let prefix: String
    let exitStatus: Int32
    private var reaped: Int32?

    static func start(
        threads: Int = 8,
        exitStatus: Int32 = 0,
        valgrindOptions: [String] = []
    ) async throws
        -> GuestProcess
    {
        let binary = try await IdleServerBinary.shared.get()
        let directory = try Scratch("guest").path
        let prefix = directory + "/vgdb"
        let argv =
            [
                "valgrind", "--tool=massif", "--vgdb=yes", "--vgdb-prefix=\(prefix)",
                "--massif-out-file=\(directory)/massif.final.out", "--log-file=\(directory)/valgrind.log",
            ] + valgrindOptions + [binary, String(threads), String(exitStatus)]
        let pid = try spawn(argv, stdout: directory + "/stdout.txt")
        let guest = GuestProcess(pid: pid, directory: directory, prefix: prefix, exitStatus: exitStatus)
        try await guest.waitUntilReady()
        return guest
    }

    private init(pid: Int32, directory: String, prefix: String, exitStatus: Int32) {
        self.pid = pid
        self.directory = directory
        self.prefix = prefix
        self.exitStatus = exitStatus
    }

    deinit {
        if reaped == nil {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func waitUntilReady() async throws {
        for _ in 0..<400 {
            let out = (try? String(contentsOfFile: directory + "/stdout.txt", encoding: .utf8)) ?? ""
            if out.contains("ready") { return }
            if let status = poll() {
                throw TestFailure("the test program under valgrind exited early with \(status): \(log)")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestFailure("the test program under valgrind did not start in 10 s: \(log)")
    }

    var log: String { (try? String(contentsOfFile: directory + "/valgrind.log", encoding: .utf8)) ?? "" }

    func send(_ signal: Int32) { kill(pid, signal) }

    /// The wait status if the process has ended (reaped once).
    func poll() -> Int32? {
        if let reaped { return reaped }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            reaped = status
            return status
        }
        return nil
    }

    /// Waits for the process to end, at most `seconds`.
    func waitForExit(seconds: Double = 10) async throws -> Int32? {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < end {
            if let status = poll() { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    var isAlive: Bool { poll() == nil }
}

/// posix_spawn in a new process group, stdout to a file, stderr to /dev/null.
func spawn(_ argv: [String], stdout: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // The spawning thread may block signals (the test runner's threads do), and a child inherits that
    // mask: reset it and the default handlers, as a shell would.
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(
        &attributes,
        Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
    )
    posix_spawnattr_setpgroup(&attributes, 0)
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { for arg in cArgs { free(arg) } }
    let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgs, environ)
    guard rc == 0 else { throw TestFailure("cannot start \(argv[0]): errno \(rc)") }
    return pid
}

/// The mem_heap_B value of the first snapshot in a massif file.
func heapBytes(_ path: String) throws -> Int {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("mem_heap_B=") }),
        let value = Int(line.dropFirst("mem_heap_B=".count))
    else { throw TestFailure("no mem_heap_B in \(path)") }
    return value
}
