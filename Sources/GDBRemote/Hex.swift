/// Hex encoding as Valgrind's gdbserver accepts it.
///
/// `remote-utils.c:fromhex` accepts only `0-9a-f`: an uppercase digit in a checksum or in a `qRcmd`
/// payload makes the gdbserver `longjmp` back to its main loop without replying, and the client
/// hangs. So everything snapctl sends is lowercase; what it receives is decoded in either case.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`, two digits per byte.
    public static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return out
    }

    /// Lowercase hex of `text`'s UTF-8 bytes.
    public static func encode(_ text: String) -> String {
        String(decoding: encode(Array(text.utf8)), as: UTF8.self)
    }

    /// The value of one hex digit in either case, or `nil`.
    @inlinable
    public static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }

    /// Decodes pairs of hex digits; `nil` when a digit is invalid or the count is odd.
    public static func decode(_ hex: some Collection<UInt8>) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(hex.count / 2)
        var iterator = hex.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = value(of: high), let l = value(of: low) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }

    /// Decodes a hex number of any length (register values, signal numbers, exit statuses).
    public static func number(_ hex: some Collection<UInt8>) -> UInt64? {
        guard !hex.isEmpty, hex.count <= 16 else { return nil }
        var result: UInt64 = 0
        for digit in hex {
            guard let v = value(of: digit) else { return nil }
            result = result << 4 | UInt64(v)
        }
        return result
    }

    /// The two lowercase digits of one byte.
    public static func byte(_ value: UInt8) -> [UInt8] {
        [digits[Int(value >> 4)], digits[Int(value & 0x0f)]]
    }
}

/// The RSP checksum: the sum modulo 256 of every byte between `$` and `#` (GDB manual, "Overview").
public enum Checksum {
    public static func of(_ bytes: some Sequence<UInt8>) -> UInt8 {
        var sum: UInt8 = 0
        for byte in bytes { sum &+= byte }
        return sum
    }
}
