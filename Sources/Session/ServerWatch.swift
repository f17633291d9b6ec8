import Synchronization

/// Whether the profiled server is still there, and if not, why: the one place a death is known.
///
/// Every part that meets a dead server (a lost connection, a monitor whose process ended, a shell step
/// that outlived it) reports here; the first report wins, and every later question gets the same
/// answer.
final class ServerWatch: Sendable {
    let server: any ProfiledServer
    private let state = Mutex<State>(State())

    private struct State {
        var death: String?
        /// Set when the run is finishing, so that the shutdown is not taken for a death.
        var finishing = false
    }

    init(server: any ProfiledServer) {
        self.server = server
    }

    /// Why the server is gone, once it is known to be.
    var death: String? { state.withLock { $0.death } }

    var isFinishing: Bool { state.withLock { $0.finishing } }

    func finish() { state.withLock { $0.finishing = true } }

    /// Records a death; the first report is kept.
    func markDead(_ report: String) {
        state.withLock { if $0.death == nil { $0.death = report } }
    }

    /// Asks the server whether it is gone; returns `true` (and records why) when it is.
    func check() async -> Bool {
        if death != nil { return true }
        guard let report = await server.death() else { return false }
        markDead(report)
        return true
    }

    /// Waits until the server dies and returns why; `nil` when the run finishes first or the caller is
    /// cancelled.
    func waitForDeath() async -> String? {
        await server.waitForExit()
        if isFinishing || Task.isCancelled { return nil }
        _ = await check()
        return death
    }
}
