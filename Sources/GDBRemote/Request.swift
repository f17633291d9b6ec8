/// The requests snapctl sends to Valgrind's gdbserver: the subset `server.c:server_main` implements
/// and a monitor client needs.
public enum Request: Hashable, Sendable {
    /// `qSupported`: learn the packet size and whether no-ack mode is offered.
    case querySupported
    /// `QStartNoAckMode`: stop acknowledging packets (GDB manual, "Packet Acknowledgment").
    case startNoAckMode
    /// `QPassSignals:s1;s2…`: deliver these signals without stopping the process.
    case passSignals([GDBSignal])
    /// `?`: why the process is stopped.
    case haltReason
    /// `qRcmd,<hex>`: a monitor command (`monitor snapshot F` in GDB).
    case monitor(String)
    /// `c`: continue.
    case `continue`
    /// `Csig`: continue and deliver a signal that stopped the process.
    case continueWithSignal(GDBSignal)
    /// `D`: detach; the process resumes and the vgdb relay exits.
    case detach

    /// The packet data between `$` and `#`, always in lowercase hex.
    public var payload: [UInt8] {
        switch self {
        case .querySupported: return Array("qSupported".utf8)
        case .startNoAckMode: return Array("QStartNoAckMode".utf8)
        case .passSignals(let signals):
            let list = signals.map { String(decoding: Hex.byte($0.rawValue), as: UTF8.self) }.joined(separator: ";")
            return Array("QPassSignals:\(list)".utf8)
        case .haltReason: return Array("?".utf8)
        case .monitor(let command): return Array("qRcmd,".utf8) + Hex.encode(Array(command.utf8))
        case .continue: return Array("c".utf8)
        case .continueWithSignal(let signal): return Array("C".utf8) + Hex.byte(signal.rawValue)
        case .detach: return Array("D".utf8)
        }
    }

    /// The whole packet, `$payload#cs`. Nothing is escaped or run-length encoded: Valgrind's `getpkt`
    /// decodes neither (`remote-utils.c`), and no payload here contains `$`, `#` or `}`.
    public var encoded: [UInt8] { Request.frame(payload) }

    /// Frames any payload as `$payload#cs` with a lowercase checksum.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "$")]
        out.reserveCapacity(payload.count + 4)
        out.append(contentsOf: payload)
        out.append(UInt8(ascii: "#"))
        out.append(contentsOf: Hex.byte(Checksum.of(payload)))
        return out
    }

    /// The interrupt: a bare `0x03` outside any packet (GDB manual, "Interrupts").
    public static let interrupt: [UInt8] = [0x03]

    /// Bytes of a framed `qRcmd` for `command`, to check it against the peer's packet size before sending.
    public static func monitorPacketLength(_ command: String) -> Int {
        "$qRcmd,#00".utf8.count + command.utf8.count * 2
    }
}
