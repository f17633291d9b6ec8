import MySQLServer
import Synchronization

/// Stops a running statement from outside: `KILL QUERY <id>` through the observer connection.
///
/// Connector/C calls block their connection's thread and know nothing of task cancellation or timeouts,
/// so a step that passes its deadline, or is interrupted by Ctrl-C, is stopped by the server itself. The
/// kill is repeated every 250 ms until the statement returns, because a `KILL QUERY` that arrives just
/// before the statement starts executing is a no-op.
final class QueryKiller: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let threadID: UInt64
    private let observer: any SQLSession

    init(threadID: UInt64, observer: any SQLSession) {
        self.threadID = threadID
        self.observer = observer
    }

    /// Starts killing (once; later calls do nothing).
    func start() {
        let (threadID, observer) = (threadID, observer)
        task.withLock { current in
            guard current == nil else { return }
            current = Task {
                while !Task.isCancelled {
                    _ = try? await observer.execute("KILL QUERY \(threadID)")
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
        }
    }

    /// Stops the repeated kill once the statement has returned.
    func stop() {
        task.withLock { $0?.cancel() }
    }

    /// Runs `statement`, killing it at `deadline` or on cancellation.
    /// - Returns: the result, and whether the deadline or a cancellation stopped it.
    static func execute(
        _ statement: String,
        on connection: any SQLSession,
        observer: any SQLSession,
        deadline: ContinuousClock.Instant?
    ) async -> (Result<QueryResult, ServerError>, timedOut: Bool, interrupted: Bool) {
        let killer = QueryKiller(threadID: await connection.threadID, observer: observer)
        let fired = Flag()
        let watchdog: Task<Void, Never>? = deadline.map { deadline in
            Task {
                do {
                    try await Task.sleep(until: deadline, clock: .continuous)
                } catch {
                    return
                }
                fired.set()
                killer.start()
            }
        }
        let result: Result<QueryResult, ServerError> = await withTaskCancellationHandler {
            do throws(ServerError) {
                return .success(try await connection.execute(statement))
            } catch {
                return .failure(error)
            }
        } onCancel: {
            killer.start()
        }
        watchdog?.cancel()
        killer.stop()
        let timedOut = fired.isSet
        return (result, timedOut, !timedOut && Task.isCancelled)
    }
}

/// A flag one task sets and another reads.
final class Flag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
