/// What is wrong with the bytes of a `.tar.gz`: where (the offset) and what.
///
/// Offsets of gzip faults count compressed bytes; offsets of tar faults count bytes of the tar stream
/// (after decompression). ``BundleError/archive(file:fault:)`` adds the file name.
public enum ArchiveFault: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file does not start with the gzip magic bytes.
    case notGzip(firstBytes: [UInt8])
    /// The compressed stream ends before its end.
    case truncatedGzip(offset: Int)
    /// zlib refused the stream (a bad block, a wrong CRC or length).
    case corruptGzip(offset: Int, reason: String)
    /// A tar header whose checksum does not match its bytes.
    case badHeaderChecksum(offset: Int, stored: Int, computed: Int)
    /// A numeric field of a tar header that is not a number.
    case badHeaderField(offset: Int, field: String, bytes: [UInt8])
    /// A pax extended header that cannot be read.
    case badPaxHeader(offset: Int, reason: String)
    /// The tar stream ends inside an entry.
    case truncatedTar(offset: Int, entry: String?, needed: Int, available: Int)
    /// The tar stream ends without the two zero blocks that close an archive.
    case missingEndOfArchive(offset: Int)
    /// An entry whose path or link would escape the directory it is unpacked into, or a device file.
    case unsafeEntry(offset: Int, path: String, reason: String)
    /// Entries outside one top-level folder, or none at all.
    case badLayout(reason: String)
    /// More than a limit of ``ArchiveLimits`` allows; `flag` raises it (none for metadata).
    case limitExceeded(offset: Int, what: String, limit: Int, flag: String?)
    /// The file could not be read.
    case unreadable(reason: String)

    public var description: String {
        switch self {
        case .notGzip(let first):
            let hex = first.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count < 2 ? "0" + digits : digits
            }
            return
                "not a gzip file (it starts with \(hex.joined(separator: " ")), not 1f 8b); give a .tar.gz written by snapctl bundle pack"
        case .truncatedGzip(let offset):
            return
                "truncated: the gzip stream ends at byte \(offset) before its end; the file is incomplete, copy or download it again"
        case .corruptGzip(let offset, let reason):
            return "corrupt gzip data at byte \(offset): \(reason); the file is damaged, copy or download it again"
        case .badHeaderChecksum(let offset, let stored, let computed):
            return
                "tar header at byte \(offset) has checksum \(stored) but its bytes sum to \(computed); the archive is damaged"
        case .badHeaderField(let offset, let field, let bytes):
            let text = String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self)
            return "tar header at byte \(offset): field '\(field)' is not a number ('\(text)'); the archive is damaged"
        case .badPaxHeader(let offset, let reason):
            return "pax extended header at byte \(offset): \(reason); the archive is damaged"
        case .truncatedTar(let offset, let entry, let needed, let available):
            let what = entry.map { "entry '\($0)'" } ?? "a header"
            return
                "truncated: \(what) at byte \(offset) of the tar stream needs \(needed) bytes but only \(available) remain; the archive is incomplete, copy or download it again"
        case .missingEndOfArchive(let offset):
            return
                "truncated: the tar stream ends at byte \(offset) without its end-of-archive blocks; the archive is incomplete"
        case .unsafeEntry(let offset, let path, let reason):
            return "refusing entry '\(path)' (tar header at byte \(offset)): \(reason)"
        case .badLayout(let reason):
            return "not a snapctl bundle: \(reason)"
        case .limitExceeded(let offset, let what, let limit, let flag):
            let advice =
                flag.map { "; if you trust this bundle, raise the limit with \($0)" }
                ?? "; no snapctl bundle has such headers"
            return "refusing the archive at byte \(offset) of the tar stream: more than \(limit) \(what)\(advice)"
        case .unreadable(let reason):
            return "read error: \(reason)"
        }
    }
}
