import Foundation
import RunRecord
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory for one test: short (the server's socket path must fit in 107 bytes), removed at
/// the end.
struct Scratch {
    let path: String

    init(_ name: String) throws {
        path = "/tmp/snapctl-rp-\(name)-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    var run: String { path + "/run" }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Why a test gave up waiting.
struct WaitedTooLong: Error, CustomStringConvertible {
    var description: String
}

/// `snapctl ARGS` with standard input from a pipe the test writes, as a script would drive the REPL.
final class ReplProcess: Sendable {
    let process: Process
    let input: FileHandle
    let scratch: Scratch
    let stdoutPath: String
    let stderrPath: String

    /// The snapctl executable next to the test bundle.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("snapctl")
            .path
    }

    /// Starts `snapctl ARGS`; `name` tells apart the output files of several processes in one scratch dir.
    init(_ arguments: [String], scratch: Scratch, name: String = "repl", environment: [String: String] = [:]) throws {
        self.scratch = scratch
        stdoutPath = scratch.path + "/\(name).stdout"
        stderrPath = scratch.path + "/\(name).stderr"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        let pipe = Pipe()
        process.standardInput = pipe
        input = pipe.fileHandleForWriting
        try process.run()
        self.process = process
    }

    /// Sends lines to the REPL.
    func send(_ lines: String...) {
        for line in lines { try? input.write(contentsOf: Data((line + "\n").utf8)) }
    }

    /// Ends the REPL's input (Ctrl-D).
    func endInput() { try? input.close() }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until `text` appears on standard output (or error); fails after a long deadline, which only a
    /// hung REPL reaches.
    func waitFor(
        _ text: String,
        onStderr: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        let deadline = ContinuousClock.now + .seconds(180)
        while !(onStderr ? stderr : stdout).contains(text) {
            if !process.isRunning || ContinuousClock.now > deadline {
                let problem = WaitedTooLong(
                    description: "never printed '\(text)'\n--- stdout:\n\(stdout)\n--- stderr:\n\(stderr)"
                )
                Issue.record(problem, sourceLocation: sourceLocation)
                throw problem
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits for the process to end and returns its exit status.
    func exitStatus() async throws -> Int32 {
        let deadline = ContinuousClock.now + .seconds(300)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw WaitedTooLong(description: "snapctl did not end\n--- stderr:\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// Runs `snapctl ARGS` with `lines` as its whole input and waits for it to end.
    static func script(
        _ arguments: [String],
        _ lines: [String],
        scratch: Scratch,
        name: String = "repl"
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let repl = try ReplProcess(arguments, scratch: scratch, name: name)
        for line in lines { repl.send(line) }
        repl.endInput()
        let status = try await repl.exitStatus()
        return (status, repl.stdout, repl.stderr)
    }
}

enum ReplChecks {
    static func manifest(_ run: String) throws -> RunManifest {
        let data = try #require(FileManager.default.contents(atPath: run + "/manifest.json"))
        return try RunManifest.decode(data, path: run + "/manifest.json")
    }

    /// The run left nothing running and nothing behind: the valgrind pid is gone, no process mentions the
    /// run directory, no FIFO is left, the record is complete and every checksum matches.
    static func expectFinalised(
        _ run: String,
        exitCode: Int32,
        status: RunManifest.RunStatus,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let manifest = try manifest(run)
        if let pid = manifest.server?.pid {
            #expect(
                kill(pid, 0) == -1 && errno == ESRCH,
                "valgrind pid \(pid) is alive",
                sourceLocation: sourceLocation
            )
        }
        #expect(processesMentioning(run).isEmpty, "left: \(processesMentioning(run))", sourceLocation: sourceLocation)
        #expect(fifos(under: run).isEmpty, "FIFOs left: \(fifos(under: run))", sourceLocation: sourceLocation)
        #expect(manifest.outcome.status == status, sourceLocation: sourceLocation)
        #expect(manifest.outcome.exitCode == exitCode, sourceLocation: sourceLocation)
        #expect(manifest.finishedAt != nil, sourceLocation: sourceLocation)
        for name in ["report.txt", "report.json", "report.html", "SHA256SUMS", "plan.yaml", "logs/snapctl.log"] {
            #expect(
                FileManager.default.fileExists(atPath: run + "/" + name),
                "\(name) missing",
                sourceLocation: sourceLocation
            )
        }
        let sums = try String(contentsOfFile: run + "/SHA256SUMS", encoding: .utf8)
        let lines = sums.split(separator: "\n")
        #expect(lines.contains { $0.hasSuffix("  manifest.json") }, sourceLocation: sourceLocation)
        for line in lines {
            let digest = String(line.prefix(64))
            let file = String(line.dropFirst(66))
            let data = try #require(FileManager.default.contents(atPath: run + "/" + file))
            #expect(SHA256.hex([UInt8](data)) == digest, "checksum of \(file)", sourceLocation: sourceLocation)
        }
    }

    static func processesMentioning(_ text: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [String] = []
        for entry in entries where Int32(entry) != nil && Int32(entry) != getpid() {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if line.contains(text) { found.append("\(entry): \(line)") }
        }
        return found
    }

    static func fifos(under path: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return [] }
        var found: [String] = []
        while let next = enumerator.nextObject() as? String {
            var info = stat()
            if lstat(path + "/" + next, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO { found.append(next) }
        }
        return found
    }
}
