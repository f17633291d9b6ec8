/// One unit of the GDB remote byte stream, as the framer finds it.
public enum Frame: Hashable, Sendable {
    /// `+` outside a packet: the peer received our last packet.
    case ack
    /// `-` outside a packet: the peer wants our last packet again.
    case nak
    /// `$data#cs` with a good checksum; the data is already run-length decoded.
    case packet([UInt8])
    /// `$data#cs` whose checksum does not match. A frame kind, not an error, so that the driver can
    /// answer `-` and carry on (GDB manual, "Packet Acknowledgment").
    case badChecksum(payload: [UInt8], expected: UInt8, received: UInt8)
    /// `%name:data#cs`: an asynchronous notification (never acknowledged; Valgrind sends none).
    case notification([UInt8])
}

/// Bytes that cannot be a packet, with where they sit in the stream.
public struct FramingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, in a lower-case fragment.
    public var reason: String
    /// Offset of the first offending byte from the start of the stream.
    public var offset: Int
    /// The offending bytes (at most 64).
    public var bytes: [UInt8]

    public var description: String {
        let shown = String(decoding: bytes.prefix(64), as: UTF8.self).debugDescription
        return "malformed GDB remote data at byte \(offset): \(reason): \(shown)"
    }
}

/// An incremental framer for the GDB remote serial protocol (GDB manual, "Overview").
///
/// Feed it bytes as they arrive with `append(_:)`, then call `next()` until it returns `nil` (more bytes
/// are needed). Bytes that are neither acks nor part of a packet are skipped, which is how stray output
/// and a half-read packet from an earlier session are survived. Run-length encoding (`X*c` = `X` repeated
/// `c - 29` more times) is expanded here because Valgrind's `remote-utils.c:putpkt_binary` applies it to
/// every packet it sends, `O` and `T` replies included; the checksum covers the encoded bytes.
public struct PacketFramer: Sendable {
    /// Packets larger than this are refused instead of growing the buffer without bound.
    public var maximumPacketSize: Int

    private var buffer: [UInt8] = []
    private var start = 0
    private var bufferOffset = 0
    /// Where the search for `#` resumes inside an incomplete packet, so that byte-by-byte input stays linear.
    private var scanResume = 0

    /// How many bytes were skipped as garbage so far.
    public private(set) var skippedBytes = 0

    public init(maximumPacketSize: Int = 1 << 20) {
        self.maximumPacketSize = maximumPacketSize
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            bufferOffset += start
            scanResume -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or `nil` when more bytes are needed (an incomplete packet is kept whole).
    ///
    /// Throws for bytes that can never become a valid frame; they are consumed, so calling `next()`
    /// again resumes after them.
    public mutating func next() throws(FramingError) -> Frame? {
        while start < buffer.count {
            let byte = buffer[start]
            switch byte {
            case UInt8(ascii: "+"):
                start += 1
                return .ack
            case UInt8(ascii: "-"):
                start += 1
                return .nak
            case UInt8(ascii: "$"), UInt8(ascii: "%"):
                return try packet(notification: byte == UInt8(ascii: "%"))
            default:
                start += 1
                skippedBytes += 1
            }
        }
        return nil
    }

    private mutating func packet(notification: Bool) throws(FramingError) -> Frame? {
        let dataStart = start + 1
        var index = max(scanResume, dataStart)
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "#") { break }
            if byte == UInt8(ascii: "$") {
                // A new packet starts before this one ended: the first was cut short.
                let bad = Array(buffer[start..<index])
                let offset = bufferOffset + start
                start = index
                scanResume = 0
                throw FramingError(reason: "packet interrupted by a new '$'", offset: offset, bytes: bad)
            }
            index += 1
        }
        guard index < buffer.count else {
            scanResume = index
            if index - dataStart > maximumPacketSize {
                let offset = bufferOffset + start
                let bad = Array(buffer[start..<min(start + 64, buffer.count)])
                start = index
                scanResume = 0
                throw FramingError(
                    reason: "packet longer than \(maximumPacketSize) bytes without '#'",
                    offset: offset,
                    bytes: bad
                )
            }
            return nil
        }
        let hashIndex = index
        guard hashIndex + 2 < buffer.count else {
            scanResume = hashIndex
            return nil
        }
        let frameStart = start
        let raw = buffer[dataStart..<hashIndex]
        start = hashIndex + 3
        scanResume = 0
        guard let high = Hex.value(of: buffer[hashIndex + 1]), let low = Hex.value(of: buffer[hashIndex + 2]) else {
            throw FramingError(
                reason: "checksum is not two hex digits",
                offset: bufferOffset + frameStart,
                bytes: Array(buffer[frameStart..<start])
            )
        }
        let received = high << 4 | low
        let expected = Checksum.of(raw)
        let payload: [UInt8]
        do {
            payload = try Self.runLengthDecode(raw, offset: bufferOffset + dataStart)
        } catch {
            if received != expected {
                return .badChecksum(payload: Array(raw), expected: expected, received: received)
            }
            throw error
        }
        if received != expected {
            return .badChecksum(payload: payload, expected: expected, received: received)
        }
        return notification ? .notification(payload) : .packet(payload)
    }

    /// Expands GDB run-length encoding: `X*c` stands for `X` followed by `c - 29` more copies of `X`.
    ///
    /// Valid count characters are printable (`' '` = 3 more copies up to `'~'` = 97 more); Valgrind's
    /// `try_rle` also uses `+` and `-` as counts, which is why acks are only acks outside packets.
    public static func runLengthDecode(_ raw: some Collection<UInt8>, offset: Int = 0) throws(FramingError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var iterator = raw.makeIterator()
        var position = offset
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "*") {
                guard let last = out.last else {
                    throw FramingError(
                        reason: "run-length marker '*' with nothing to repeat",
                        offset: position,
                        bytes: [byte]
                    )
                }
                guard let count = iterator.next(), count >= 32, count <= 126 else {
                    throw FramingError(
                        reason: "run-length count is not a printable character",
                        offset: position,
                        bytes: [byte]
                    )
                }
                out.append(contentsOf: repeatElement(last, count: Int(count) - 29))
                position += 2
            } else {
                out.append(byte)
                position += 1
            }
        }
        return out
    }
}
