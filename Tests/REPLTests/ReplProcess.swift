import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `snapctl ARGS` with standard input from a pipe the test writes, as a script would drive the REPL.
final class ReplProcess: Sendable {
    let process: Process
    let input: FileHandle
    let scratch: Scratch
    let stdoutPath: String
    let stderrPath: String

    /// The files a REPL's run directory holds when it ends: a session's, and the HTML report.
    static let runFiles = ["report.txt", "report.json", "report.html", "SHA256SUMS", "plan.yaml", "logs/snapctl.log"]

    /// Starts `snapctl ARGS`; `name` tells apart the output files of several processes in one scratch dir.
    init(_ arguments: [String], scratch: Scratch, name: String = "repl", environment: [String: String] = [:]) throws {
        self.scratch = scratch
        stdoutPath = scratch.path + "/\(name).stdout"
        stderrPath = scratch.path + "/\(name).stderr"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Programs.requireSnapctl())
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
                let problem = TestFailure(
                    "never printed '\(text)'\n--- stdout:\n\(stdout)\n--- stderr:\n\(stderr)"
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
                throw TestFailure("snapctl did not end\n--- stderr:\n\(stderr)")
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
