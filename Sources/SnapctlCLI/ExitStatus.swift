import ArgumentParser
import Valgrind

#if canImport(Glibc)
import Glibc
#endif

/// snapctl's documented exit statuses (docs/architecture.md, "Exit codes").
enum ExitStatus {
    static let success = ExitCode(0)
    /// Bad usage, a bad plan, or a command that failed on bad input.
    static let usage = ExitCode(1)
    /// The environment is not ready: missing valgrind, vgdb or server binary; ptrace refused.
    static let environment = ExitCode(2)
    /// A budget was exceeded or a leak was flagged.
    static let budget = ExitCode(3)
    /// The server died or a step failed.
    static let serverFailure = ExitCode(4)
    /// Interrupted by Ctrl-C or SIGTERM; the run directory is still finalised.
    static let interrupted = ExitCode(130)
}

/// Writes a line to standard error.
func printError(_ message: String) {
    var line = "snapctl: " + message + "\n"
    line.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
}

extension ValgrindError {
    /// The exit status that tells a script what kind of failure this is.
    var exitStatus: ExitCode {
        switch self {
        case .vgdbUnavailable, .timedOut, .lockHeld: return ExitStatus.environment
        case .processEnded, .connectionClosed: return ExitStatus.serverFailure
        case .noSuchProcess, .noFIFO, .vgdbFailed, .commandFailed, .invalidPath, .protocolFailure:
            return ExitStatus.usage
        }
    }
}
