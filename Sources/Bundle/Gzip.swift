import CZlib

/// gzip (RFC 1952) over zlib: whole buffers, for writing bundles and for tests. Reading a bundle from
/// disk streams through ``GzipSource`` instead, so that its size never decides how much memory is used.
public enum Gzip {
    /// `windowBits` for zlib: 15 (the largest window) plus 16, which selects the gzip wrapper instead of
    /// zlib's own (zlib.h, `deflateInit2`).
    private static let gzipWindowBits: Int32 = 15 + 16

    /// The bytes as one gzip member, with no file name and a zero time stamp in its header, so that the
    /// same input always gives the same output.
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        let initialised = deflateInit2_(
            &stream,
            level,
            Z_DEFLATED,
            gzipWindowBits,
            8,
            Z_DEFAULT_STRATEGY,
            zlibVersion(),
            Int32(MemoryLayout<z_stream>.size)
        )
        // deflateInit2 fails only for invalid parameters or no memory; neither is recoverable here.
        precondition(initialised == Z_OK, "deflateInit2 failed with \(initialised)")
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var output = [UInt8](repeating: 0, count: bound + 64)
        var input = bytes
        let produced = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer -> Int in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate did not finish (\(status)) within deflateBound")
                return Int(stream.total_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// The decompressed bytes of a gzip file (every member, when there are several), through
    /// ``GzipSource``; at most `limit` bytes.
    ///
    /// - Throws: ``ArchiveFault`` with the offset in the compressed bytes where the stream went wrong:
    ///   not gzip at all, corrupt (a bad block or checksum), truncated (the input ended mid-stream), or
    ///   more than `limit` bytes.
    public static func decompress(
        _ bytes: [UInt8],
        limit: Int = ArchiveLimits.defaultTotalBytes
    ) throws(ArchiveFault) -> [UInt8] {
        let source = GzipSource(MemorySource(bytes))
        var output: [UInt8] = []
        while true {
            let chunk = try source.read(maximum: 1 << 16)
            if chunk.isEmpty { return output }
            guard chunk.count <= limit - output.count else {
                throw .limitExceeded(
                    offset: output.count,
                    what: "decompressed bytes",
                    limit: limit,
                    flag: "--max-unpacked"
                )
            }
            output += chunk
        }
    }
}
