/// Reads tar archives: POSIX ustar, pax extended headers (`x`; global `g` headers are skipped) and the
/// GNU long name and long link members (`L`, `K`), with octal or GNU base-256 numbers.
///
/// Pure: bytes in, entries out. It says what the archive holds; whether an entry is safe to unpack is
/// ``BundleArchive``'s question.
public enum TarReader {
    /// Every entry of the archive, in order.
    ///
    /// - Throws: ``ArchiveFault`` with the offset of the header at fault: a bad checksum or number, an
    ///   entry that runs past the end of the bytes, or an archive without its end-of-archive block.
    public static func entries(
        _ bytes: [UInt8],
        limits: ArchiveLimits = ArchiveLimits()
    ) throws(ArchiveFault) -> [TarEntry] {
        var stream = TarStream(MemorySource(bytes), limits: limits)
        var entries: [TarEntry] = []
        while var entry = try stream.next() {
            if case .file = entry.kind { entry.data = try stream.readAll() }
            entries.append(entry)
        }
        return entries
    }

    /// The header checksum: the sum of its bytes as unsigned, the checksum field counted as spaces.
    public static func checksum(_ block: [UInt8]) -> Int {
        var sum = 0
        for (index, byte) in block.enumerated() {
            sum += (148..<156).contains(index) ? 32 : Int(byte)
        }
        return sum
    }

    static func signedChecksum(_ block: [UInt8]) -> Int {
        var sum = 0
        for (index, byte) in block.enumerated() {
            sum += (148..<156).contains(index) ? 32 : Int(Int8(bitPattern: byte))
        }
        return sum
    }

    /// A NUL-terminated text field.
    static func field(_ block: [UInt8], _ start: Int, _ width: Int) -> [UInt8] {
        Array(block[start..<(start + width)].prefix { $0 != 0 })
    }

    static func text(_ bytes: [UInt8], offset: Int) throws(ArchiveFault) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .unsafeEntry(
                offset: offset,
                path: String(decoding: bytes, as: UTF8.self),
                reason: "its name is not valid UTF-8"
            )
        }
        return text
    }

    /// An octal number (leading spaces, ended by NUL or space), or GNU base-256 when the first byte has
    /// its high bit set.
    static func number(
        _ block: [UInt8],
        _ start: Int,
        _ width: Int,
        field name: String,
        offset: Int
    ) throws(ArchiveFault) -> Int {
        let bytes = Array(block[start..<(start + width)])
        if let first = bytes.first, first & 0x80 != 0 {
            guard first == 0x80 else { throw .badHeaderField(offset: offset, field: name, bytes: bytes) }
            var value = 0
            for byte in bytes.dropFirst() {
                guard value <= (Int.max >> 8) else { throw .badHeaderField(offset: offset, field: name, bytes: bytes) }
                value = value << 8 | Int(byte)
            }
            return value
        }
        var value = 0
        var index = 0
        while index < bytes.count && bytes[index] == UInt8(ascii: " ") { index += 1 }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0 || byte == UInt8(ascii: " ") { break }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "7"), value <= (Int.max >> 3) else {
                throw .badHeaderField(offset: offset, field: name, bytes: bytes)
            }
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
            index += 1
        }
        return value
    }

    /// The `key=value` records of a pax extended header.
    static func records(_ data: [UInt8], offset: Int) throws(ArchiveFault) -> [String: String] {
        var result: [String: String] = [:]
        var position = 0
        while position < data.count {
            if data[position] == 0 { break }
            guard let space = data[position...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[position..<space], as: UTF8.self)),
                length > space - position, length <= data.count - position,
                data[position + length - 1] == UInt8(ascii: "\n")
            else {
                throw .badPaxHeader(offset: offset, reason: "malformed record at byte \(position) of its data")
            }
            let record = data[(space + 1)..<(position + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else {
                throw .badPaxHeader(offset: offset, reason: "record at byte \(position) has no '='")
            }
            let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
            guard let value = String(validating: record[(equals + 1)...], as: UTF8.self) else {
                throw .badPaxHeader(offset: offset, reason: "the value of '\(key)' is not valid UTF-8")
            }
            result[key] = value
            position += length
        }
        return result
    }
}
