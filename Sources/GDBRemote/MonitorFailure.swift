/// What the client was waiting for when something went wrong; it names the likely cause.
public enum WaitPhase: String, Hashable, Sendable, Codable {
    /// The `qSupported` / `QStartNoAckMode` / `QPassSignals` exchange.
    case handshake
    /// A stop reply after the `0x03` interrupt: the gdbserver has not run yet.
    case stopReply = "stop reply"
    /// `O` packets and the final `OK` of a `qRcmd`.
    case commandReply = "command reply"
    /// The `OK` after `D`.
    case detach
}

/// How the process under Valgrind ended, from a `W` or `X` reply.
public enum ProcessEnd: Hashable, Sendable, Codable, CustomStringConvertible {
    case exited(status: UInt8)
    case killed(signal: GDBSignal)

    public var description: String {
        switch self {
        case .exited(let status): return "exited with status \(status)"
        case .killed(let signal): return "was terminated by \(signal)"
        }
    }
}

/// Why an operation of the monitor client failed. The transport layer adds the pid and prefix.
public enum MonitorFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Nothing arrived in time.
    case timedOut(WaitPhase)
    /// The process ended (`W`/`X`) while connected.
    case processEnded(ProcessEnd)
    /// The byte stream ended (vgdb exited, or the process died while frozen in a command).
    case connectionClosed(WaitPhase?)
    /// The framed `qRcmd` would exceed the peer's `PacketSize`; Valgrind's `getpkt` has no length check.
    case commandTooLong(length: Int, limit: Int)
    /// A request arrived in a state that cannot take it.
    case notReady(String)
    /// The gdbserver answered with the empty packet.
    case unsupported(String)
    /// The gdbserver answered `E NN` or `E.text`.
    case remoteError(String)

    public var description: String {
        switch self {
        case .timedOut(let phase): return "no \(phase.rawValue) in time"
        case .processEnded(let end): return "the process \(end)"
        case .connectionClosed(let phase):
            if let phase { return "the connection closed while waiting for the \(phase.rawValue)" }
            return "the connection closed"
        case .commandTooLong(let length, let limit):
            return "the command needs a \(length)-byte packet; the gdbserver accepts at most \(limit)"
        case .notReady(let why): return why
        case .unsupported(let what): return "\(what) is not supported by the gdbserver"
        case .remoteError(let text): return "the gdbserver answered with an error: \(text)"
        }
    }
}
