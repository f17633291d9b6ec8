#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What an ELF binary carries for symbolisation: whether it is stripped, and how to find its separate
/// debug file (GNU build-id note and `.gnu_debuglink`).
///
/// Massif names a frame only if valgrind finds a symbol for it; a stripped `mariadbd` without its
/// debug file shows about half of the frames as `???` (reference section G).
public struct ELFSymbols: Sendable, Hashable, Codable {
    /// The binary has a `.symtab` section (it is not stripped).
    public var hasSymbolTable: Bool
    /// The binary has DWARF (`.debug_info`) itself.
    public var hasDebugInfo: Bool
    /// The GNU build id in lowercase hex, from `.note.gnu.build-id`.
    public var buildID: String?
    /// The file name in `.gnu_debuglink`.
    public var debugLink: String?

    /// Creates a description from known parts.
    public init(hasSymbolTable: Bool, hasDebugInfo: Bool, buildID: String?, debugLink: String?) {
        self.hasSymbolTable = hasSymbolTable
        self.hasDebugInfo = hasDebugInfo
        self.buildID = buildID
        self.debugLink = debugLink
    }

    /// Whether the binary is stripped of its symbol table.
    public var isStripped: Bool { !hasSymbolTable }

    /// Reads the section headers of a 64-bit little-endian ELF file; `nil` for anything else.
    public static func inspect(_ path: String) -> ELFSymbols? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        func bytes(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard count > 0, count < 1 << 24 else { return nil }
            var buffer = [UInt8](repeating: 0, count: count)
            let read = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return pread(fd, base, count, off_t(offset))
            }
            return read == count ? buffer : nil
        }
        guard let header = bytes(0, 64), header[0..<4] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2, header[5] == 1
        else { return nil }
        let sectionOffset = header.littleEndian(at: 0x28, size: 8)
        let entrySize = Int(header.littleEndian(at: 0x3A, size: 2))
        let count = Int(header.littleEndian(at: 0x3C, size: 2))
        let namesIndex = Int(header.littleEndian(at: 0x3E, size: 2))
        guard entrySize >= 64, count > 0, namesIndex < count,
            let table = bytes(sectionOffset, entrySize * count)
        else { return nil }
        func section(_ index: Int) -> (name: UInt64, offset: UInt64, size: UInt64) {
            let base = index * entrySize
            return (
                table.littleEndian(at: base, size: 4), table.littleEndian(at: base + 0x18, size: 8),
                table.littleEndian(at: base + 0x20, size: 8)
            )
        }
        let names = section(namesIndex)
        guard let nameTable = bytes(names.offset, Int(names.size)) else { return nil }
        var result = ELFSymbols(hasSymbolTable: false, hasDebugInfo: false, buildID: nil, debugLink: nil)
        for index in 0..<count {
            let entry = section(index)
            let start = Int(entry.name)
            guard start < nameTable.count else { continue }
            let end = nameTable[start...].firstIndex(of: 0) ?? nameTable.count
            switch String(decoding: nameTable[start..<end], as: UTF8.self) {
            case ".symtab":
                result.hasSymbolTable = true
            case ".debug_info":
                result.hasDebugInfo = true
            case ".gnu_debuglink":
                if let data = bytes(entry.offset, Int(entry.size)) {
                    let end = data.firstIndex(of: 0) ?? data.count
                    result.debugLink = String(decoding: data[..<end], as: UTF8.self)
                }
            case ".note.gnu.build-id":
                // Note: namesz, descsz, type, "GNU\0", then the id.
                if let data = bytes(entry.offset, Int(entry.size)), data.count >= 16 {
                    let nameSize = Int(data.littleEndian(at: 0, size: 4))
                    let descSize = Int(data.littleEndian(at: 4, size: 4))
                    let descStart = 12 + ((nameSize + 3) & ~3)
                    if descStart + descSize <= data.count {
                        result.buildID = data[descStart..<descStart + descSize].map { byte in
                            let hex = String(byte, radix: 16)
                            return hex.count == 1 ? "0" + hex : hex
                        }.joined()
                    }
                }
            default:
                break
            }
        }
        return result
    }

    /// Where gdb and valgrind look for the separate debug file of `binary`, in order
    /// (`/usr/lib/debug/.build-id/ab/cdef.debug`, then the debuglink beside the binary and under
    /// `/usr/lib/debug`).
    public func debugFileCandidates(for binary: String, debugRoot: String = "/usr/lib/debug") -> [String] {
        var candidates: [String] = []
        if let buildID, buildID.count > 2 {
            candidates.append("\(debugRoot)/.build-id/\(buildID.prefix(2))/\(buildID.dropFirst(2)).debug")
        }
        if let debugLink {
            let directory = FileIO.directory(of: binary)
            candidates += [
                "\(directory)/\(debugLink)", "\(directory)/.debug/\(debugLink)",
                "\(debugRoot)\(directory)/\(debugLink)",
            ]
        }
        return candidates
    }

    /// The first debug file that exists, if any.
    public func installedDebugFile(for binary: String) -> String? {
        debugFileCandidates(for: binary).first { FileIO.exists($0) }
    }
}

extension Array where Element == UInt8 {
    /// An unsigned little-endian integer of `size` bytes at `offset` (0 if out of range).
    fileprivate func littleEndian(at offset: Int, size: Int) -> UInt64 {
        guard offset >= 0, offset + size <= count else { return 0 }
        var value: UInt64 = 0
        for index in (0..<size).reversed() { value = value << 8 | UInt64(self[offset + index]) }
        return value
    }
}

extension ELFSymbols {
    /// The `DT_NEEDED` entries of a 64-bit little-endian ELF file (`libjemalloc.so.2`, `libc.so.6`): the
    /// libraries the dynamic linker loads with it. Empty for anything else, or a file without `.dynamic`.
    ///
    /// Read from the section headers (`.dynamic` and the string table its `sh_link` names), with every read
    /// bounded, since the binary is the user's and may be anything.
    public static func neededLibraries(_ path: String) -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        func bytes(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard count > 0, count < 1 << 24, offset < 1 << 40 else { return nil }
            var buffer = [UInt8](repeating: 0, count: count)
            let read = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return pread(fd, base, count, off_t(offset))
            }
            return read == count ? buffer : nil
        }
        guard let header = bytes(0, 64), header[0..<4] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2, header[5] == 1
        else { return [] }
        let sectionOffset = header.littleEndian(at: 0x28, size: 8)
        let entrySize = Int(header.littleEndian(at: 0x3A, size: 2))
        let count = Int(header.littleEndian(at: 0x3C, size: 2))
        guard entrySize >= 64, count > 0, let table = bytes(sectionOffset, entrySize * count) else { return [] }
        let dynamicType: UInt64 = 6
        for index in 0..<count {
            let base = index * entrySize
            guard table.littleEndian(at: base + 4, size: 4) == dynamicType else { continue }
            let link = Int(table.littleEndian(at: base + 0x28, size: 4))
            guard link < count,
                let dynamic = bytes(
                    table.littleEndian(at: base + 0x18, size: 8),
                    Int(table.littleEndian(at: base + 0x20, size: 8))
                ),
                let strings = bytes(
                    table.littleEndian(at: link * entrySize + 0x18, size: 8),
                    Int(table.littleEndian(at: link * entrySize + 0x20, size: 8))
                )
            else { return [] }
            var needed: [String] = []
            var entry = 0
            while entry + 16 <= dynamic.count {
                let tag = dynamic.littleEndian(at: entry, size: 8)
                if tag == 0 { break }
                if tag == 1 {
                    let start = Int(clamping: dynamic.littleEndian(at: entry + 8, size: 8))
                    if start < strings.count {
                        let end = strings[start...].firstIndex(of: 0) ?? strings.count
                        needed.append(String(decoding: strings[start..<end], as: UTF8.self))
                    }
                }
                entry += 16
            }
            return needed
        }
        return []
    }
}
