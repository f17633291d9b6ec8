#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a child process ended: an exit status or a signal.
///
/// A non-zero exit is a result to report, not an error in itself; ``ServerError`` wraps it when the exit
/// was not asked for.
public enum ProcessExit: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The process called `exit` with this status.
    case exited(Int32)
    /// The process was ended by this signal.
    case signaled(Int32)

    /// Whether the process exited with status 0.
    public var isSuccess: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let status):
            return "exit status \(status)"
        case .signaled(let signal):
            return "signal \(signal) (\(ProcessExit.signalName(signal)))"
        }
    }

    /// The conventional name of a signal number, e.g. `SIGKILL`.
    public static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
            SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
