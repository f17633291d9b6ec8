import CZlib

/// A PNG decoded to pixels, enough to check a browser's screenshot: 8-bit greyscale, grey and alpha, RGB or
/// RGBA, not interlaced (what headless Chromium writes). The zlib stream is inflated by zlib itself (the
/// package's CZlib), so the test needs no image library.
struct PNGImage {
    let width: Int
    let height: Int
    /// Bytes per pixel: 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA).
    let channels: Int
    /// Rows of `width * channels` bytes, filters undone.
    let pixels: [UInt8]

    /// Why a file could not be decoded.
    struct DecodeError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = "PNG: " + description }
    }

    init(bytes: [UInt8]) throws {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count > 8, Array(bytes[0..<8]) == signature else { throw DecodeError("not a PNG file") }
        var position = 8
        var header: [UInt8] = []
        var compressed: [UInt8] = []
        func be32(_ at: Int) -> Int {
            Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        chunks: while position + 8 <= bytes.count {
            let length = be32(position)
            let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
            let start = position + 8
            guard start + length + 4 <= bytes.count else { throw DecodeError("chunk \(type) at \(position) is cut") }
            switch type {
            case "IHDR": header = Array(bytes[start..<(start + length)])
            case "IDAT": compressed += bytes[start..<(start + length)]
            case "IEND": break chunks
            default: break
            }
            position = start + length + 4
        }
        guard header.count == 13 else { throw DecodeError("no IHDR chunk") }
        func headerWord(_ at: Int) -> Int {
            Int(header[at]) << 24 | Int(header[at + 1]) << 16 | Int(header[at + 2]) << 8 | Int(header[at + 3])
        }
        width = headerWord(0)
        height = headerWord(4)
        let depth = header[8]
        let colour = header[9]
        guard depth == 8, header[12] == 0 else {
            throw DecodeError("bit depth \(depth), interlace \(header[12]): only 8-bit, not interlaced, is read")
        }
        switch colour {
        case 0: channels = 1
        case 2: channels = 3
        case 4: channels = 2
        case 6: channels = 4
        default: throw DecodeError("colour type \(colour) is not read")
        }
        let raw = try Inflater.zlib(compressed)
        let stride = width * channels
        guard raw.count >= height * (stride + 1) else {
            throw DecodeError("\(raw.count) bytes of image data for \(width)x\(height)")
        }
        var out = [UInt8](repeating: 0, count: height * stride)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            let source = row * (stride + 1) + 1
            let target = row * stride
            for column in 0..<stride {
                let value = raw[source + column]
                let left = column >= channels ? Int(out[target + column - channels]) : 0
                let up = row > 0 ? Int(out[target - stride + column]) : 0
                let upLeft = row > 0 && column >= channels ? Int(out[target - stride + column - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = left
                case 2: predictor = up
                case 3: predictor = (left + up) / 2
                case 4:
                    let estimate = left + up - upLeft
                    let (toLeft, toUp, toUpLeft) = (abs(estimate - left), abs(estimate - up), abs(estimate - upLeft))
                    predictor = toLeft <= toUp && toLeft <= toUpLeft ? left : (toUp <= toUpLeft ? up : upLeft)
                default: throw DecodeError("filter \(filter) in row \(row)")
                }
                out[target + column] = UInt8(truncatingIfNeeded: Int(value) + predictor)
            }
        }
        pixels = out
    }

    /// Red, green and blue of a pixel (grey repeated).
    func rgb(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let at = (y * width + x) * channels
        if channels < 3 { return (pixels[at], pixels[at], pixels[at]) }
        return (pixels[at], pixels[at + 1], pixels[at + 2])
    }
}

/// zlib inflation of a whole stream (its Adler-32 checked by zlib).
enum Inflater {
    static func zlib(_ data: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw PNGImage.DecodeError("zlib cannot start inflating")
        }
        defer { inflateEnd(&stream) }
        var input = data
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let status: Int32 = input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let result: Int32 = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                out += chunk[0..<(chunk.count - Int(stream.avail_out))]
                if result != Z_OK { return result }
                if stream.avail_in == 0 && stream.avail_out != 0 { return Z_BUF_ERROR }
            }
        }
        guard status == Z_STREAM_END else {
            throw PNGImage.DecodeError("the zlib stream is damaged (zlib status \(status))")
        }
        return out
    }
}
