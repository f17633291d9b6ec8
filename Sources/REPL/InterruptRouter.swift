import Synchronization

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
