import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Signals while the REPL runs: SIGINT (Ctrl-C) goes to whatever is in progress, SIGTERM and SIGHUP end
/// the REPL (the run is still finalised, exit 130), SIGWINCH tells the line editor the window changed.
///
/// The signals are ignored as signals and delivered through dispatch sources, so no handler runs inside
/// readline or Connector/C.
final class ReplSignals: Sendable {
    private let sources: Mutex<[any DispatchSourceSignal]>

    init(
        interrupt: @escaping @Sendable () -> Void,
        terminate: @escaping @Sendable () -> Void,
        resize: @escaping @Sendable () -> Void
    ) {
        signal(SIGPIPE, SIG_IGN)
        var made: [any DispatchSourceSignal] = []
        for (number, handler) in [(SIGINT, interrupt), (SIGTERM, terminate), (SIGHUP, terminate), (SIGWINCH, resize)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            made.append(source)
        }
        sources = Mutex(made)
    }

    /// Stops listening and restores the default actions.
    func cancel() {
        sources.withLock { sources in
            for source in sources { source.cancel() }
            sources = []
        }
        for number in [SIGINT, SIGTERM, SIGHUP, SIGWINCH] { signal(number, SIG_DFL) }
    }
}
