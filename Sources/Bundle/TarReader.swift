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
    public static func entries(_ bytes: [UInt8]) throws(ArchiveFault) -> [TarEntry] {
        let blockSize = TarWriter.blockSize
        var entries: [TarEntry] = []
        var offset = 0
        var pax: [String: String] = [:]
        var longName: String?
        var longLink: String?
        while true {
            guard offset < bytes.count else { throw .missingEndOfArchive(offset: offset) }
            guard offset + blockSize <= bytes.count else {
                throw .truncatedTar(offset: offset, entry: nil, needed: blockSize, available: bytes.count - offset)
            }
            let block = Array(bytes[offset..<(offset + blockSize)])
            if block.allSatisfy({ $0 == 0 }) { return entries }

            let stored = try number(block, 148, 8, field: "chksum", offset: offset)
            let computed = checksum(block)
            // Some old writers summed signed chars; accept that sum too.
            guard stored == computed || stored == signedChecksum(block) else {
                throw .badHeaderChecksum(offset: offset, stored: stored, computed: computed)
            }
            let flag = block[156]
            var size = try number(block, 124, 12, field: "size", offset: offset)
            if let paxSize = pax["size"] {
                guard let value = Int(paxSize), value >= 0 else {
                    throw .badPaxHeader(offset: offset, reason: "size '\(paxSize)' is not a number")
                }
                size = value
            }
            var name = field(block, 0, 100)
            let isUstar = block[257..<262].elementsEqual("ustar".utf8)
            if isUstar {
                let prefix = field(block, 345, 155)
                if !prefix.isEmpty { name = prefix + [UInt8(ascii: "/")] + name }
            }
            var path = try text(name, offset: offset)
            if let longName { path = longName }
            if let paxPath = pax["path"] { path = paxPath }

            let dataStart = offset + blockSize
            // Links, devices, directories and pipes carry no data whatever their size field says.
            let hasData = !(UInt8(ascii: "1")...UInt8(ascii: "6")).contains(flag)
            let dataLength = hasData ? size : 0
            // The data and the padding of its last block: an archive cut inside either is incomplete.
            let paddedLength = (dataLength + blockSize - 1) / blockSize * blockSize
            guard paddedLength <= bytes.count - dataStart else {
                throw .truncatedTar(
                    offset: offset,
                    entry: path,
                    needed: blockSize + paddedLength,
                    available: bytes.count - offset
                )
            }
            let data = Array(bytes[dataStart..<(dataStart + dataLength)])
            let next = dataStart + paddedLength

            switch flag {
            case UInt8(ascii: "x"):
                pax = try records(data, offset: offset)
            case UInt8(ascii: "g"):
                break
            case UInt8(ascii: "L"):
                longName = try text(Array(data.prefix { $0 != 0 }), offset: offset)
            case UInt8(ascii: "K"):
                longLink = try text(Array(data.prefix { $0 != 0 }), offset: offset)
            default:
                var link = try text(field(block, 157, 100), offset: offset)
                if let longLink { link = longLink }
                if let paxLink = pax["linkpath"] { link = paxLink }
                let kind: TarEntry.Kind =
                    switch flag {
                    case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): .file
                    case UInt8(ascii: "1"): .hardlink(target: link)
                    case UInt8(ascii: "2"): .symlink(target: link)
                    case UInt8(ascii: "3"): .characterDevice
                    case UInt8(ascii: "4"): .blockDevice
                    case UInt8(ascii: "5"): .directory
                    case UInt8(ascii: "6"): .fifo
                    default: .other(flag: flag)
                    }
                let mode = try number(block, 100, 8, field: "mode", offset: offset)
                let time = try number(block, 136, 12, field: "mtime", offset: offset)
                var isFile = false
                if case .file = kind { isFile = true }
                // An old-style directory: a regular-file flag and a name ending in '/'.
                let finalKind: TarEntry.Kind = isFile && path.hasSuffix("/") && data.isEmpty ? .directory : kind
                entries.append(
                    TarEntry(
                        path: path,
                        kind: finalKind,
                        mode: UInt32(truncatingIfNeeded: mode),
                        modificationTime: time,
                        data: isFile ? data : [],
                        offset: offset
                    )
                )
                pax = [:]
                longName = nil
                longLink = nil
            }
            offset = next
        }
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
                length > space - position, position + length <= data.count,
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
