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

/// Where Ctrl-C goes: to the line being typed, to the command running, or (while the server starts) to the
/// start.
final class InterruptRouter: Sendable {
    private enum State {
        case idle
        case reading
        case running(@Sendable () -> Void)
    }

    private let state = Mutex(State.idle)

    /// A line is being read: Ctrl-C discards it.
    func reading() { state.withLock { $0 = .reading } }

    /// Something runs that `cancel` stops (a statement: KILL QUERY).
    func running(_ cancel: @escaping @Sendable () -> Void) { state.withLock { $0 = .running(cancel) } }

    /// Nothing to interrupt.
    func idle() { state.withLock { $0 = .idle } }

    /// What Ctrl-C did.
    enum Effect: Sendable, Hashable {
        case cancelledCommand
        case interruptedInput
        case nothing
    }

    /// Routes one Ctrl-C.
    func interrupt() -> Effect {
        let cancel: (@Sendable () -> Void)?
        let effect: Effect
        (cancel, effect) = state.withLock { current -> ((@Sendable () -> Void)?, Effect) in
            switch current {
            case .running(let cancel): return (cancel, .cancelledCommand)
            case .reading: return (nil, .interruptedInput)
            case .idle: return (nil, .nothing)
            }
        }
        cancel?()
        return effect
    }
}
