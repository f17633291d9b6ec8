import CZlib

#if canImport(Glibc)
import Glibc
#endif

/// How much a bundle may unpack to. A bundle comes from someone else: a few kilobytes of gzip can
/// claim gigabytes, so reading stops at these limits with an error that names the flag raising each.
public struct ArchiveLimits: Sendable, Hashable {
    /// The sum of every entry's size (`--max-unpacked`).
    public private(set) var totalBytes: Int
    /// How many entries, pax and long-name headers included (`--max-entries`).
    public private(set) var entries: Int
    /// The size of one entry (`--max-entry-size`).
    public private(set) var entryBytes: Int

    /// 1 GiB in all, 100,000 entries, 512 MiB each: a bundle of a long run is a few hundred megabytes
    /// unpacked (its massif files), far below.
    public static let defaultTotalBytes = 1 << 30
    public static let defaultEntries = 100_000
    public static let defaultEntryBytes = 512 << 20
    /// pax extended headers and GNU long names: metadata, never large.
    public static let metadataBytes = 1 << 20
    /// The longest path or link target accepted (Linux's `PATH_MAX`).
    public static let pathBytes = 4096

    public init(
        totalBytes: Int = defaultTotalBytes,
        entries: Int = defaultEntries,
        entryBytes: Int = defaultEntryBytes
    ) {
        // Capped at 2^60 so that sums and rounding to tar blocks can never overflow.
        self.totalBytes = min(max(0, totalBytes), 1 << 60)
        self.entries = min(max(0, entries), 1 << 60)
        self.entryBytes = min(max(0, entryBytes), 1 << 60)
    }
}

/// Bytes read forward, a chunk at a time: a file, memory, or the inflated side of a gzip stream.
public protocol ByteSource {
    /// Up to `maximum` bytes (at least one unless the source has ended); empty at the end.
    mutating func read(maximum: Int) throws(ArchiveFault) -> [UInt8]
}

/// Bytes already in memory.
public struct MemorySource: ByteSource {
    let bytes: [UInt8]
    var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func read(maximum: Int) throws(ArchiveFault) -> [UInt8] {
        let end = position + min(maximum, bytes.count - position)
        defer { position = end }
        return Array(bytes[position..<end])
    }
}

/// A file read through its descriptor in chunks; the caller closes nothing, the source closes on deinit.
public final class FileSource: ByteSource {
    let descriptor: Int32

    /// `nil` when the file cannot be opened (`errno` says why).
    public init?(path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    public func read(maximum: Int) throws(ArchiveFault) -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: maximum)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, maximum) }
            if count >= 0 {
                chunk.removeSubrange(count...)
                return chunk
            }
            if errno == EINTR { continue }
            throw .unreadable(reason: String(cString: strerror(errno)))
        }
    }
}

/// The inflated bytes of a gzip stream (every member, zero padding after the last one allowed), read
/// on demand: never more than one compressed and one inflated chunk in memory.
public final class GzipSource<Input: ByteSource>: ByteSource {
    private var input: Input
    private var stream = z_stream()
    /// The compressed chunk zlib is reading from.
    private var pending: [UInt8] = []
    private var pendingStart = 0
    /// Compressed bytes consumed before `pending`.
    private var consumedBefore = 0
    private var started = false
    private var finished = false
    private var inputEnded = false
    static var chunkSize: Int { 1 << 16 }

    public init(_ input: Input) {
        self.input = input
        let status = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        // inflateInit2 fails only for bad parameters or no memory; neither is recoverable here.
        precondition(status == Z_OK, "inflateInit2 failed with \(status)")
    }

    deinit { inflateEnd(&stream) }

    /// The compressed offset zlib has reached.
    private var offset: Int { consumedBefore + pendingStart }

    /// Makes sure `pending` has unread bytes; false at the end of the input.
    private func fill() throws(ArchiveFault) -> Bool {
        if pendingStart < pending.count { return true }
        if inputEnded { return false }
        consumedBefore += pending.count
        pending = try input.read(maximum: Self.chunkSize)
        pendingStart = 0
        if pending.isEmpty { inputEnded = true }
        return !pending.isEmpty
    }

    public func read(maximum: Int) throws(ArchiveFault) -> [UInt8] {
        if finished { return [] }
        if !started {
            started = true
            guard try peekMagic() else { throw .notGzip(firstBytes: Array(pending[pendingStart...].prefix(4))) }
        }
        var output = [UInt8](repeating: 0, count: maximum)
        while true {
            let hasInput = try fill()
            let available = pending.count - pendingStart
            let start = pendingStart
            let (status, used, produced) = pending.withUnsafeMutableBufferPointer { inputBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer -> (Int32, Int, Int) in
                    stream.next_in = inputBuffer.baseAddress.map { $0 + start }
                    stream.avail_in = uInt(available)
                    stream.next_out = outputBuffer.baseAddress
                    stream.avail_out = uInt(outputBuffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, available - Int(stream.avail_in), outputBuffer.count - Int(stream.avail_out))
                }
            }
            pendingStart += used
            switch status {
            case Z_STREAM_END:
                try nextMember()
                if produced > 0 || finished {
                    output.removeSubrange(produced...)
                    return output
                }
            case Z_OK, Z_BUF_ERROR:
                if produced > 0 {
                    output.removeSubrange(produced...)
                    return output
                }
                // zlib holds nothing more to give and the file has ended: cut short.
                if !hasInput { throw .truncatedGzip(offset: offset) }
                if used == 0 { throw .corruptGzip(offset: offset, reason: "zlib made no progress") }
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw .corruptGzip(offset: offset, reason: reason)
            }
        }
    }

    /// After a member's end: another member, zero padding to the end, or garbage.
    private func nextMember() throws(ArchiveFault) {
        while true {
            guard try fill() else {
                finished = true
                return
            }
            if pending[pendingStart] == 0 {
                pendingStart += 1
                continue
            }
            let start = offset
            guard pending[pendingStart] == 0x1f, try peekMagic() else {
                throw .corruptGzip(offset: start, reason: "unexpected bytes after the end of the gzip stream")
            }
            inflateReset(&stream)
            return
        }
    }

    /// Whether the next two compressed bytes are the gzip magic, reading one more chunk if needed.
    private func peekMagic() throws(ArchiveFault) -> Bool {
        if pending.count - pendingStart < 2 && !inputEnded {
            let more = try input.read(maximum: Self.chunkSize)
            if more.isEmpty { inputEnded = true }
            consumedBefore += pendingStart
            pending = Array(pending[pendingStart...]) + more
            pendingStart = 0
        }
        guard pending.count - pendingStart >= 2 else { return false }
        return pending[pendingStart] == 0x1f && pending[pendingStart + 1] == 0x8b
    }
}

/// A tar stream read header by header; an entry's data is read in chunks (``readData(maximum:)``) or
/// skipped. Every size from a header is checked against ``ArchiveLimits`` before any arithmetic uses it.
public struct TarStream<Source: ByteSource> {
    private var source: Source
    private let limits: ArchiveLimits
    /// Bytes buffered from the source, not yet consumed.
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    /// Tar-stream offset of `buffer[bufferStart]`.
    private(set) var offset = 0
    /// The current entry's data not yet read, and the padding after it.
    private var remaining = 0
    private var padding = 0
    private var current: (offset: Int, path: String, size: Int)?
    private var entryCount = 0
    private var totalBytes = 0
    private var ended = false

    public init(_ source: Source, limits: ArchiveLimits = ArchiveLimits()) {
        self.source = source
        self.limits = limits
    }

    /// Up to `count` bytes, fewer only at the end of the source.
    private mutating func take(_ count: Int) throws(ArchiveFault) -> [UInt8] {
        while buffer.count - bufferStart < count {
            let more = try source.read(maximum: max(1 << 16, count))
            if more.isEmpty { break }
            if bufferStart > 0 {
                buffer.removeFirst(bufferStart)
                bufferStart = 0
            }
            buffer += more
        }
        let end = bufferStart + min(count, buffer.count - bufferStart)
        let result = Array(buffer[bufferStart..<end])
        offset += result.count
        bufferStart = end
        if bufferStart == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            bufferStart = 0
        }
        return result
    }

    /// The next entry's header (its `data` empty); `nil` after the end-of-archive block.
    public mutating func next() throws(ArchiveFault) -> TarEntry? {
        if ended { return nil }
        try skipData()
        let blockSize = TarWriter.blockSize
        var pax: [String: String] = [:]
        var longName: String?
        var longLink: String?
        while true {
            let start = offset
            let block = try take(blockSize)
            guard !block.isEmpty else { throw .missingEndOfArchive(offset: start) }
            guard block.count == blockSize else {
                throw .truncatedTar(offset: start, entry: nil, needed: blockSize, available: block.count)
            }
            if block.allSatisfy({ $0 == 0 }) {
                ended = true
                return nil
            }
            entryCount += 1
            guard entryCount <= limits.entries else {
                throw .limitExceeded(
                    offset: start,
                    what: "entries",
                    limit: limits.entries,
                    flag: "--max-entries"
                )
            }
            let stored = try TarReader.number(block, 148, 8, field: "chksum", offset: start)
            let computed = TarReader.checksum(block)
            // Some old writers summed signed chars; accept that sum too.
            guard stored == computed || stored == TarReader.signedChecksum(block) else {
                throw .badHeaderChecksum(offset: start, stored: stored, computed: computed)
            }
            let flag = block[156]
            var size = try TarReader.number(block, 124, 12, field: "size", offset: start)
            if let paxSize = pax["size"] {
                guard paxSize.utf8.count <= 19, paxSize.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                    let value = Int(paxSize)
                else {
                    throw .badPaxHeader(offset: start, reason: "size '\(paxSize.prefix(40))' is not a number")
                }
                size = value
            }
            var name = TarReader.field(block, 0, 100)
            if block[257..<262].elementsEqual("ustar".utf8) {
                let prefix = TarReader.field(block, 345, 155)
                if !prefix.isEmpty { name = prefix + [UInt8(ascii: "/")] + name }
            }
            var path = try TarReader.text(name, offset: start)
            if let longName { path = longName }
            if let paxPath = pax["path"] { path = paxPath }
            let isMetadata = [UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K")]
                .contains(flag)
            // Links, devices, directories and pipes carry no data whatever their size field says.
            let hasData = !(UInt8(ascii: "1")...UInt8(ascii: "6")).contains(flag)
            let dataLength = hasData ? size : 0
            if isMetadata {
                guard dataLength <= ArchiveLimits.metadataBytes else {
                    throw .limitExceeded(
                        offset: start,
                        what: "bytes in one pax or long-name header (\(dataLength) claimed)",
                        limit: ArchiveLimits.metadataBytes,
                        flag: nil
                    )
                }
            } else {
                guard dataLength <= limits.entryBytes else {
                    throw .limitExceeded(
                        offset: start,
                        what: "bytes in entry '\(path.prefix(200))' (\(dataLength) claimed)",
                        limit: limits.entryBytes,
                        flag: "--max-entry-size"
                    )
                }
            }
            // Both at most 2^60 (ArchiveLimits caps them): the sum and the rounding below cannot overflow.
            let (total, overflow) = totalBytes.addingReportingOverflow(dataLength)
            guard !overflow, total <= limits.totalBytes else {
                throw .limitExceeded(
                    offset: start,
                    what: "unpacked bytes in all",
                    limit: limits.totalBytes,
                    flag: "--max-unpacked"
                )
            }
            totalBytes = total
            let paddedLength = (dataLength + blockSize - 1) / blockSize * blockSize
            remaining = dataLength
            padding = paddedLength - dataLength
            current = (start, path, dataLength)

            guard isMetadata else {
                var link = try TarReader.text(TarReader.field(block, 157, 100), offset: start)
                if let longLink { link = longLink }
                if let paxLink = pax["linkpath"] { link = paxLink }
                guard path.utf8.count <= ArchiveLimits.pathBytes, link.utf8.count <= ArchiveLimits.pathBytes else {
                    throw .unsafeEntry(
                        offset: start,
                        path: String(path.prefix(200)) + "...",
                        reason: "its name or link is longer than \(ArchiveLimits.pathBytes) bytes"
                    )
                }
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
                let mode = try TarReader.number(block, 100, 8, field: "mode", offset: start)
                let time = try TarReader.number(block, 136, 12, field: "mtime", offset: start)
                var finalKind = kind
                // An old-style directory: a regular-file flag and a name ending in '/'.
                if case .file = kind, path.hasSuffix("/"), dataLength == 0 { finalKind = .directory }
                return TarEntry(
                    path: path,
                    kind: finalKind,
                    mode: UInt32(truncatingIfNeeded: mode),
                    modificationTime: time,
                    data: [],
                    offset: start,
                    size: dataLength
                )
            }
            let data = try readAll()
            switch flag {
            case UInt8(ascii: "x"):
                pax = try TarReader.records(data, offset: start)
            case UInt8(ascii: "L"):
                longName = try TarReader.text(Array(data.prefix { $0 != 0 }), offset: start)
            case UInt8(ascii: "K"):
                longLink = try TarReader.text(Array(data.prefix { $0 != 0 }), offset: start)
            default:
                break
            }
            try skipData()
        }
    }

    /// The next chunk of the current entry's data (at most `maximum` bytes); empty once all is read.
    public mutating func readData(maximum: Int = 1 << 16) throws(ArchiveFault) -> [UInt8] {
        guard remaining > 0, let current else { return [] }
        let chunk = try take(min(maximum, remaining))
        guard !chunk.isEmpty else {
            let read = current.size - remaining
            throw .truncatedTar(
                offset: current.offset,
                entry: current.path,
                needed: TarWriter.blockSize + current.size + padding,
                available: TarWriter.blockSize + read
            )
        }
        remaining -= chunk.count
        return chunk
    }

    /// The rest of the current entry's data at once (for metadata entries, bounded by the caller).
    mutating func readAll() throws(ArchiveFault) -> [UInt8] {
        var data: [UInt8] = []
        while remaining > 0 { data += try readData() }
        return data
    }

    /// Skips what is left of the current entry and its padding.
    private mutating func skipData() throws(ArchiveFault) {
        while remaining > 0 { _ = try readData() }
        if padding > 0, let current {
            let skipped = try take(padding)
            guard skipped.count == padding else {
                throw .truncatedTar(
                    offset: current.offset,
                    entry: current.path,
                    needed: TarWriter.blockSize + current.size + padding,
                    available: TarWriter.blockSize + current.size + skipped.count
                )
            }
            padding = 0
        }
        current = nil
    }
}
