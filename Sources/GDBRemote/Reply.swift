/// Why the process stopped, from a `T` or `S` stop reply (GDB manual, "Stop Reply Packets").
public struct StopReply: Hashable, Sendable {
    public var signal: GDBSignal
    /// The `thread:` field, if any (a Valgrind thread's LWP in hex).
    public var thread: String?
    /// Every other `n:r` pair in order (registers, `watch`, `syscall_entry`, …); unknown pairs are kept, not used.
    public var fields: [String: String]

    public init(signal: GDBSignal, thread: String? = nil, fields: [String: String] = [:]) {
        self.signal = signal
        self.thread = thread
        self.fields = fields
    }
}

/// A packet received from the gdbserver, interpreted without knowing which request it answers.
public enum Reply: Hashable, Sendable {
    /// `OK`.
    case ok
    /// The empty packet: the request is not supported.
    case empty
    /// `E NN`.
    case error(code: UInt8)
    /// `E.text`: an error in words (Valgrind's `P` refusal, vgdb's `early_exit` since 3.23).
    case errorText(String)
    /// `O<hex>`: console output of a monitor command.
    case output([UInt8])
    /// `T…` or `S…`: the process stopped.
    case stopped(StopReply)
    /// `W AA`: the process exited with status AA.
    case exited(status: UInt8)
    /// `X AA`: the process was terminated by signal AA.
    case terminated(signal: GDBSignal)
    /// Anything else, such as the reply to `qSupported`.
    case other([UInt8])

    /// Interprets an already run-length-decoded payload.
    public static func parse(_ payload: [UInt8]) -> Reply {
        guard let first = payload.first else { return .empty }
        let rest = payload.dropFirst()
        switch first {
        case UInt8(ascii: "O"):
            if rest.elementsEqual("K".utf8) { return .ok }
            if let text = Hex.decode(rest), !rest.isEmpty { return .output(text) }
        case UInt8(ascii: "E"):
            if rest.first == UInt8(ascii: ".") { return .errorText(String(decoding: rest.dropFirst(), as: UTF8.self)) }
            if rest.count == 2, let code = Hex.number(rest) { return .error(code: UInt8(code)) }
        case UInt8(ascii: "T"), UInt8(ascii: "S"):
            if let stop = parseStop(rest, extended: first == UInt8(ascii: "T")) { return .stopped(stop) }
        case UInt8(ascii: "W"):
            if let status = Hex.number(rest.prefix { $0 != UInt8(ascii: ";") }), status <= 0xff {
                return .exited(status: UInt8(status))
            }
        case UInt8(ascii: "X"):
            if let signal = Hex.number(rest.prefix { $0 != UInt8(ascii: ";") }), signal <= 0xff {
                return .terminated(signal: GDBSignal(rawValue: UInt8(signal)))
            }
        default:
            break
        }
        return .other(payload)
    }

    private static func parseStop(_ body: ArraySlice<UInt8>, extended: Bool) -> StopReply? {
        guard body.count >= 2, let number = Hex.number(body.prefix(2)) else { return nil }
        var stop = StopReply(signal: GDBSignal(rawValue: UInt8(number)))
        guard extended else { return body.count == 2 ? stop : nil }
        for pair in body.dropFirst(2).split(separator: UInt8(ascii: ";")) {
            guard let colon = pair.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: pair[pair.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: pair[(colon + 1)...], as: UTF8.self)
            if name == "thread" { stop.thread = value } else { stop.fields[name] = value }
        }
        return stop
    }
}

/// The features a `qSupported` reply lists (GDB manual, "General Query Packets").
public struct SupportedFeatures: Hashable, Sendable {
    /// `PacketSize`: the largest packet the stub accepts, framing and checksum included.
    public var packetSize: Int?
    /// Features marked `+`.
    public var enabled: Set<String>
    /// `name=value` features.
    public var values: [String: String]

    public init(packetSize: Int? = nil, enabled: Set<String> = [], values: [String: String] = [:]) {
        self.packetSize = packetSize
        self.enabled = enabled
        self.values = values
    }

    public static func parse(_ payload: [UInt8]) -> SupportedFeatures {
        var features = SupportedFeatures()
        for item in payload.split(separator: UInt8(ascii: ";")) {
            let text = String(decoding: item, as: UTF8.self)
            if let eq = text.firstIndex(of: "=") {
                let name = String(text[..<eq])
                let value = String(text[text.index(after: eq)...])
                features.values[name] = value
                if name == "PacketSize", let size = Hex.number(Array(value.utf8)) { features.packetSize = Int(size) }
            } else if text.hasSuffix("+") {
                features.enabled.insert(String(text.dropLast()))
            }
        }
        return features
    }
}
