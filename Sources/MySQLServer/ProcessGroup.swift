import Subprocess
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The exit of a supervised child, set once by the task that waits for it and read without waiting.
final class ExitBox: Sendable {
    private let state = Mutex<ProcessExit?>(nil)

    /// The exit, or `nil` while the process runs.
    var value: ProcessExit? { state.withLock { $0 } }

    func set(_ exit: ProcessExit) { state.withLock { $0 = exit } }

    /// Polls until the process has exited or `limit` has passed; returns the exit, if any.
    ///
    /// Polling (every 20 ms) keeps this independent of the caller's cancellation: teardown must still
    /// wait after a Ctrl-C.
    func wait(upTo limit: Duration) async -> ProcessExit? {
        let deadline = ContinuousClock.now + limit
        while true {
            if let value { return value }
            if ContinuousClock.now >= deadline { return nil }
            await sleepIgnoringCancellation(.milliseconds(20))
        }
    }
}

/// Sleeps even if the task is cancelled: used on teardown paths, whose waits must stay bounded but real.
func sleepIgnoringCancellation(_ duration: Duration) async {
    await Task.detached { try? await Task.sleep(for: duration) }.value
}

/// Signals sent to a whole process group.
enum ProcessGroup {
    /// Sends `signal` to every process in group `pgid`; returns `false` if the group is gone.
    @discardableResult
    static func signal(_ pgid: Int32, _ signal: Int32) -> Bool {
        guard pgid > 1 else { return false }
        return kill(-pgid, signal) == 0
    }

    /// Whether any process of group `pgid` is still alive (zombies included until reaped).
    static func isAlive(_ pgid: Int32) -> Bool {
        guard pgid > 1 else { return false }
        return kill(-pgid, 0) == 0 || errno == EPERM
    }

    /// Whether process `pid` exists.
    static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Kills what is left of a group whose leader has exited, waiting up to `limit` for it to go.
    static func killRemnants(_ pgid: Int32, upTo limit: Duration) async {
        guard signal(pgid, SIGKILL) else { return }
        let deadline = ContinuousClock.now + limit
        while isAlive(pgid) && ContinuousClock.now < deadline {
            await sleepIgnoringCancellation(.milliseconds(20))
        }
    }
}

extension ProcessExit {
    /// Converts Subprocess's termination status.
    init(_ status: TerminationStatus) {
        switch status {
        case .exited(let code): self = .exited(code)
        case .signaled(let signal): self = .signaled(signal)
        }
    }
}
