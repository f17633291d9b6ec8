import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a program did: its exit status (128 + the signal for a program a signal ended) and its output.
public struct ProgramOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Running the built snapctl and other programs from tests, with output in files (no pipe to fill up).
public enum Programs {
    /// The built snapctl executable, which SwiftPM puts beside the test bundle.
    public static var snapctl: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("snapctl")
            .path
    }

    /// ``snapctl``, or a failure that says how to build it.
    public static func requireSnapctl() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: snapctl) else {
            throw TestFailure("no snapctl executable at \(snapctl): build it first (swift build --build-tests)")
        }
        return snapctl
    }

    /// This process's environment with `changes` applied (a nil value removes the variable).
    public static func environment(_ changes: [String: String?]) -> [String: String] {
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in changes { merged[key] = value }
        return merged
    }

    /// Starts `executable ARGS` with stdout and stderr in `output.stdout` and `output.stderr`, standard input
    /// from `input` (a file's contents) or /dev/null.
    public static func start(
        _ executable: String,
        _ arguments: [String],
        output: String,
        environment: [String: String]? = nil,
        directory: String? = nil,
        input: String? = nil
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let input {
            _ = FileManager.default.createFile(atPath: output + ".stdin", contents: Data(input.utf8))
            process.standardInput = FileHandle(forReadingAtPath: output + ".stdin")
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        _ = FileManager.default.createFile(atPath: output + ".stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: output + ".stderr", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output + ".stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output + ".stderr"))
        try process.run()
        return process
    }

    /// What a process started by ``start(_:_:output:environment:directory:input:)`` has printed so far.
    public static func printed(_ output: String) -> (stdout: String, stderr: String) {
        (
            (try? String(contentsOfFile: output + ".stdout", encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: output + ".stderr", encoding: .utf8)) ?? ""
        )
    }

    /// The exit status of an ended process, 128 + the signal for one a signal ended (as a shell reports it).
    public static func status(_ process: Process) -> Int32 {
        process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Runs `executable ARGS` to its end and returns what it did; blocks the calling thread.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        input: String? = nil
    ) throws -> ProgramOutput {
        let run = try Capture(executable, arguments, environment: environment, directory: directory, input: input)
        defer { run.scratch.cleanup() }
        run.process.waitUntilExit()
        return run.output()
    }

    /// Runs `executable ARGS` to its end, polling instead of blocking a thread of the pool; `signal` is sent
    /// after a delay when given (to test Ctrl-C and SIGTERM handling).
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        input: String? = nil,
        signal: (number: Int32, after: Duration)?
    ) async throws -> ProgramOutput {
        let run = try Capture(executable, arguments, environment: environment, directory: directory, input: input)
        defer { run.scratch.cleanup() }
        if let signal {
            try await Task.sleep(for: signal.after)
            kill(run.process.processIdentifier, signal.number)
        }
        while run.process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return run.output()
    }

    /// A started program whose output goes to files in a scratch directory of its own.
    private struct Capture {
        let scratch: Scratch
        let process: Process

        init(
            _ executable: String,
            _ arguments: [String],
            environment: [String: String]?,
            directory: String?,
            input: String?
        ) throws {
            let scratch = try Scratch("out")
            do {
                process = try start(
                    executable,
                    arguments,
                    output: scratch.path + "/program",
                    environment: environment,
                    directory: directory,
                    input: input
                )
            } catch {
                scratch.cleanup()
                throw error
            }
            self.scratch = scratch
        }

        func output() -> ProgramOutput {
            let printed = printed(scratch.path + "/program")
            return ProgramOutput(status: status(process), stdout: printed.stdout, stderr: printed.stderr)
        }
    }

    /// `snapctl ARGS`, the built binary, to its end.
    public static func snapctl(
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        input: String? = nil
    ) throws -> ProgramOutput {
        try run(requireSnapctl(), arguments, environment: environment, directory: directory, input: input)
    }
}

extension Programs {
    /// Runs a tool found on PATH (`cc`, `valgrind`, `ms_print`) in `directory` and returns what it printed,
    /// stdout then stderr; a missing tool or a non-zero exit is a failure that carries its output.
    @discardableResult
    public static func tool(_ arguments: [String], in directory: String? = nil) throws -> String {
        let result = try run("/usr/bin/env", arguments, directory: directory)
        let output = result.stdout + result.stderr
        guard result.status == 0 else {
            throw TestFailure(
                "\(arguments.joined(separator: " ")) failed (\(result.status)): \(output.suffix(2000))"
            )
        }
        return output
    }
}
