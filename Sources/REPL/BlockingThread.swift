import Dispatch
import Foundation
import Synchronization

/// A thread of its own for blocking calls (readline, reading stdin), so that they never hold a thread of
/// the cooperative pool.
final class BlockingThread: Sendable {
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let available = DispatchSemaphore(value: 0)

    /// Starts the thread; it lives as long as the process (one per REPL).
    init(name: String) {
        let thread = Thread { [self] in
            while true {
                available.wait()
                let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                job?()
            }
        }
        thread.name = name
        thread.start()
    }

    /// Runs `job` on the thread after the jobs before it.
    func submit(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        available.signal()
    }

    /// Runs `body` on the thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: body()) }
        }
    }
}

/// One read's continuation, resumed once by whichever comes first: the line, or termination.
final class PendingRead: Sendable {
    private let continuation: Mutex<CheckedContinuation<LineEvent, Never>?>

    init(_ continuation: CheckedContinuation<LineEvent, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ event: LineEvent) {
        continuation.withLock { waiting in
            waiting?.resume(returning: event)
            waiting = nil
        }
    }
}
