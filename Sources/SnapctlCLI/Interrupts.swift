import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C and SIGTERM handling for long-running commands.
///
/// The signals are turned into task cancellation, so every command unwinds through its own cleanup
/// (detach from the gdbserver, shut the server down, finalise the run directory) and then exits 130.
enum Interrupts {
    /// Runs `body`, cancelling it on SIGINT or SIGTERM; returns whether it was interrupted.
    static func run<T: Sendable>(
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> (T, interrupted: Bool) {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let task = Task { try await body() }
        let flag = InterruptFlag()
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                flag.set()
                task.cancel()
            }
            source.resume()
            return source
        }
        defer {
            for source in sources { source.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        let value = try await task.value
        return (value, flag.isSet)
    }
}

/// A flag set from a signal handler's queue and read from the command.
final class InterruptFlag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
