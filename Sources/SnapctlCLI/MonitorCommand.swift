import ArgumentParser
import Foundation
import TextFormat
import Valgrind

/// `snapctl monitor`: monitor commands over snapctl's own GDB remote client, like standalone vgdb but
/// with one relay for all commands and an honest exit status.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Send monitor commands to a process under Valgrind (snapshot, detailed_snapshot, v.info ...).",
        discussion: """
            Every command goes over one vgdb relay kept open. Separate commands with -c:
              snapctl monitor --pid 4242 detailed_snapshot /tmp/a.massif -c v.info stats
            Exits 0 only if every command succeeded (vgdb itself exits 0 even on failure).
            """
    )

    @Option(help: "The valgrind process id (the pid the server writes to its pid file).")
    var pid: Int32

    @Option(name: .customLong("vgdb-prefix"), help: "The --vgdb-prefix valgrind was started with.")
    var vgdbPrefix: String?

    @Option(name: .customLong("max-invoke-ms"), help: "vgdb's --max-invoke-ms; 0 never uses ptrace.")
    var maxInvokeMilliseconds = 1

    @Option(help: "Seconds to wait for the process to stop for a command.")
    var timeout: Double = 10

    @Option(help: "Run the whole list of commands this many times over the same relay.")
    var `repeat` = 1

    @Flag(help: "Print each command's round-trip time on standard error (interrupt, command, continue).")
    var timings = false

    @Argument(parsing: .captureForPassthrough, help: "COMMAND WORDS... [-c COMMAND WORDS...]")
    var words: [String] = []

    /// The commands, split on `-c`.
    var commands: [String] {
        var result: [[String]] = [[]]
        for word in words {
            if word == "-c" { result.append([]) } else { result[result.count - 1].append(word) }
        }
        return result.filter { !$0.isEmpty }.map { $0.joined(separator: " ") }
    }

    func validate() throws {
        guard !commands.isEmpty else { throw ValidationError("give at least one monitor command, e.g. 'help'") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard maxInvokeMilliseconds >= 0 else { throw ValidationError("--max-invoke-ms cannot be negative") }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
    }

    func run() async throws {
        let options = MonitorSession.Options(
            maxInvokeMilliseconds: maxInvokeMilliseconds,
            handshakeTimeout: .milliseconds(Int(timeout * 1000)),
            stopTimeout: .milliseconds(Int(timeout * 1000))
        )
        let (pid, prefix, timings) = (self.pid, self.vgdbPrefix, self.timings)
        let commands = Array(repeatElement(self.commands, count: self.repeat).joined())
        let (failures, interrupted) = try await Interrupts.run { () async throws -> [ValgrindError] in
            let session: MonitorSession
            do {
                session = try await MonitorSession.connect(pid: pid, prefix: prefix, options: options)
            } catch let error as ValgrindError {
                return [error]
            }
            var failures: [ValgrindError] = []
            for command in commands {
                if Task.isCancelled { break }
                do throws(ValgrindError) {
                    let started = ContinuousClock.now
                    let output = try await session.raw(command)
                    if timings {
                        let elapsed = ContinuousClock.now - started
                        let ms =
                            Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
                        printError("timing \(Format.decimal(ms, digits: 3)) ms \(command)")
                    }
                    print(output, terminator: "")
                } catch {
                    if case .commandFailed(_, let output, _) = error { print(output, terminator: "") }
                    failures.append(error)
                    if case .processEnded = error { break }
                    if case .connectionClosed = error { break }
                    if case .timedOut = error { break }
                }
            }
            await session.close()
            return failures
        }
        for failure in failures { printError(failure.description) }
        if interrupted { throw ExitStatus.interrupted }
        if let first = failures.first { throw first.exitStatus }
    }
}
