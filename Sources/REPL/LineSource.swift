import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What reading one line gave.
public enum LineEvent: Sendable, Hashable {
    /// A line, without its line break.
    case line(String)
    /// Ctrl-C while typing: the input was discarded.
    case interrupted
    /// End of input (Ctrl-D, or the end of piped input).
    case end
    /// A signal (SIGTERM, SIGHUP) ends the REPL.
    case terminated
}

/// Where the REPL's lines come from: the line editor on a terminal, plain lines from a pipe.
protocol LineSource: Sendable {
    /// Reads one line, showing `prompt` (a plain source shows none).
    func read(prompt: String) async -> LineEvent
    /// Ctrl-C while a line is being read.
    func interrupt()
    /// Ends the read under way, and every later one, with ``LineEvent/terminated``.
    func terminate()
    /// Shows a message now, even while the user is typing (the server died).
    func notify(_ message: String)
    /// Waits until the terminal is restored; nothing is read afterwards.
    func close() async
}

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

/// Lines from a pipe or file: no prompt, no escape codes, nothing echoed; for scripts.
final class PlainLineSource: LineSource {
    private let thread = BlockingThread(name: "snapctl-stdin")
    private let pending = Mutex<PendingRead?>(nil)
    private let terminated = Mutex(false)
    private let output: ReplOutput

    init(output: ReplOutput) {
        self.output = output
    }

    func read(prompt: String) async -> LineEvent {
        await withCheckedContinuation { continuation in
            let read = PendingRead(continuation)
            pending.withLock { $0 = read }
            if terminated.withLock({ $0 }) {
                read.resume(.terminated)
                return
            }
            thread.submit {
                guard let line = Swift.readLine(strippingNewline: true) else {
                    read.resume(.end)
                    return
                }
                read.resume(.line(line))
            }
        }
    }

    func interrupt() {
        output.error("interrupt: nothing is running (quit or the end of input ends the REPL)")
    }

    func terminate() {
        terminated.withLock { $0 = true }
        pending.withLock { $0?.resume(.terminated) }
    }

    func notify(_ message: String) {
        output.notice(message)
    }

    /// The reading thread may be blocked in `read(2)` for ever; it is not waited for.
    func close() async {}
}
