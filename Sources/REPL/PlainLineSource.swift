import Synchronization

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
