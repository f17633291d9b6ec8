/// Writes POSIX ustar archives, with pax extended headers (POSIX.1-2001, `pax` "ustar Interchange
/// Format" and "pax Extended Header") for names, links and sizes ustar cannot hold.
///
/// Owner ids are 0 and owner names empty: a bundle says nothing about the accounts of the machine that
/// packed it.
public enum TarWriter {
    /// The size of a tar block.
    public static let blockSize = 512

    /// The whole archive: every entry, then the two zero blocks that end it.
    public static func archive(_ entries: [TarEntry]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(entries.reduce(1024) { $0 + 1024 + $1.data.count })
        for entry in entries { append(entry, to: &output) }
        output.append(contentsOf: [UInt8](repeating: 0, count: 2 * blockSize))
        return output
    }

    /// Appends one entry (preceded by a pax header when needed).
    public static func append(_ entry: TarEntry, to output: inout [UInt8]) {
        var name = entry.path
        if case .directory = entry.kind, !name.hasSuffix("/") { name += "/" }
        let linkTarget: String? =
            switch entry.kind {
            case .symlink(let target), .hardlink(let target): target
            default: nil
            }
        let size = isFile(entry.kind) ? entry.data.count : 0

        var pax: [(String, String)] = []
        let split = splitName(Array(name.utf8))
        if split == nil { pax.append(("path", name)) }
        if let linkTarget, linkTarget.utf8.count > 100 { pax.append(("linkpath", linkTarget)) }
        if size > maxOctal(digits: 11) { pax.append(("size", String(size))) }
        if !pax.isEmpty {
            let records = paxRecords(pax)
            // The header's own name is informative only; readers take the path from its records.
            let base = name.split(separator: "/").last.map { Array($0.utf8.prefix(80)) } ?? []
            output += header(
                name: ([], Array("PaxHeaders/".utf8) + base),
                mode: 0o644,
                size: records.count,
                time: entry.modificationTime,
                flag: UInt8(ascii: "x"),
                link: []
            )
            output += records
            pad(&output)
        }
        let fallback = Array(name.utf8.suffix(100))
        output += header(
            name: split ?? ([], fallback),
            mode: entry.mode & 0o7777,
            size: size > maxOctal(digits: 11) ? 0 : size,
            time: entry.modificationTime,
            flag: flag(entry.kind),
            link: Array((linkTarget ?? "").utf8.prefix(100))
        )
        if size > 0 {
            output += entry.data
            pad(&output)
        }
    }

    static func isFile(_ kind: TarEntry.Kind) -> Bool {
        if case .file = kind { return true }
        return false
    }

    static func flag(_ kind: TarEntry.Kind) -> UInt8 {
        switch kind {
        case .file: return UInt8(ascii: "0")
        case .hardlink: return UInt8(ascii: "1")
        case .symlink: return UInt8(ascii: "2")
        case .characterDevice: return UInt8(ascii: "3")
        case .blockDevice: return UInt8(ascii: "4")
        case .directory: return UInt8(ascii: "5")
        case .fifo: return UInt8(ascii: "6")
        case .other(let flag): return flag
        }
    }

    /// The name as ustar's (prefix, name) pair: the name alone when it fits in 100 bytes, else split at a
    /// `/` so that the prefix fits in 155; `nil` when neither works (a pax `path` record is needed).
    static func splitName(_ bytes: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        if bytes.count <= 100 { return ([], bytes) }
        guard bytes.count <= 256 else { return nil }
        let slash = UInt8(ascii: "/")
        for index in bytes.indices.reversed() where bytes[index] == slash {
            let prefix = Array(bytes[..<index])
            let name = Array(bytes[(index + 1)...])
            if prefix.count <= 155 && name.count <= 100 && !name.isEmpty { return (prefix, name) }
        }
        return nil
    }

    /// pax records `"<length> <key>=<value>\n"`, the length counting the whole record itself.
    static func paxRecords(_ pairs: [(String, String)]) -> [UInt8] {
        var output: [UInt8] = []
        for (key, value) in pairs {
            let body = " " + key + "=" + value + "\n"
            let bodyLength = body.utf8.count
            var length = bodyLength + 1
            while String(length).utf8.count + bodyLength != length { length += 1 }
            output += Array((String(length) + body).utf8)
        }
        return output
    }

    static func header(
        name: (prefix: [UInt8], name: [UInt8]),
        mode: UInt32,
        size: Int,
        time: Int,
        flag: UInt8,
        link: [UInt8]
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        put(name.name, at: 0, width: 100, in: &block)
        put(octal(Int(mode), digits: 7), at: 100, width: 8, in: &block)
        put(octal(0, digits: 7), at: 108, width: 8, in: &block)
        put(octal(0, digits: 7), at: 116, width: 8, in: &block)
        put(octal(size, digits: 11), at: 124, width: 12, in: &block)
        put(octal(max(0, min(time, maxOctal(digits: 11))), digits: 11), at: 136, width: 12, in: &block)
        block[156] = flag
        put(link, at: 157, width: 100, in: &block)
        put(Array("ustar\0".utf8), at: 257, width: 6, in: &block)
        put(Array("00".utf8), at: 263, width: 2, in: &block)
        put(octal(0, digits: 7), at: 329, width: 8, in: &block)
        put(octal(0, digits: 7), at: 337, width: 8, in: &block)
        put(name.prefix, at: 345, width: 155, in: &block)
        let checksum = TarReader.checksum(block)
        put(octal(checksum, digits: 6) + [UInt8(ascii: " ")], at: 148, width: 8, in: &block)
        return block
    }

    /// `value` in octal, zero-padded to `digits`, followed by a NUL.
    static func octal(_ value: Int, digits: Int) -> [UInt8] {
        var text = Array(String(value, radix: 8).utf8)
        while text.count < digits { text.insert(UInt8(ascii: "0"), at: 0) }
        return text + [0]
    }

    static func maxOctal(digits: Int) -> Int { (1 << (3 * digits)) - 1 }

    static func put(_ bytes: [UInt8], at offset: Int, width: Int, in block: inout [UInt8]) {
        for (index, byte) in bytes.prefix(width).enumerated() { block[offset + index] = byte }
    }

    static func pad(_ output: inout [UInt8]) {
        let remainder = output.count % blockSize
        if remainder != 0 { output += [UInt8](repeating: 0, count: blockSize - remainder) }
    }
}
