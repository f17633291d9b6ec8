import CZlib

/// gzip (RFC 1952) over zlib: whole buffers in, whole buffers out.
///
/// Bundles are a few megabytes, so the work is done in one go on the calling thread; commands that run
/// on the cooperative pool call it through ``OffPool``.
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

    /// The decompressed bytes of a gzip file (every member, when there are several).
    ///
    /// - Throws: ``ArchiveFault`` with the offset in the compressed bytes where the stream went wrong:
    ///   not gzip at all, corrupt (a bad block or checksum), or truncated (the input ended mid-stream).
    public static func decompress(_ bytes: [UInt8]) throws(ArchiveFault) -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b else {
            throw .notGzip(firstBytes: Array(bytes.prefix(4)))
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 4)
        var memberStart = 0
        while memberStart < bytes.count {
            let consumed = try inflateMember(bytes, from: memberStart, into: &output)
            memberStart += consumed
            // Some writers pad with zeros after the last member; anything else must be another member.
            if bytes[memberStart...].allSatisfy({ $0 == 0 }) { break }
            guard bytes.count - memberStart >= 2, bytes[memberStart] == 0x1f, bytes[memberStart + 1] == 0x8b else {
                throw .corruptGzip(offset: memberStart, reason: "unexpected bytes after the end of the gzip stream")
            }
        }
        return output
    }

    /// Inflates one member starting at `start`; returns how many compressed bytes it took.
    private static func inflateMember(
        _ bytes: [UInt8],
        from start: Int,
        into output: inout [UInt8]
    ) throws(ArchiveFault) -> Int {
        var stream = z_stream()
        let initialised = inflateInit2_(&stream, gzipWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(initialised == Z_OK, "inflateInit2 failed with \(initialised)")
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var input = Array(bytes[start...])
        var fault: ArchiveFault?
        var consumed = 0
        input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { chunkBuffer -> (Int32, Int) in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, chunkBuffer.count - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    consumed = Int(stream.total_in)
                    return
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    fault = .truncatedGzip(offset: start + Int(stream.total_in))
                    return
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    fault = .corruptGzip(offset: start + Int(stream.total_in), reason: reason)
                    return
                }
            }
        }
        if let fault { throw fault }
        return consumed
    }
}
