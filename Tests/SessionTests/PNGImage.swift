/// A PNG decoded to pixels, enough to check a browser's screenshot: 8-bit greyscale, grey and alpha, RGB or
/// RGBA, not interlaced (what headless Chromium writes), with the zlib stream inflated here (RFC 1950 and
/// RFC 1951) so that the test needs no image library.
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

/// zlib inflation: stored, fixed and dynamic Huffman blocks (RFC 1951), the Adler-32 checked (RFC 1950).
enum Inflater {
    static func zlib(_ data: [UInt8]) throws -> [UInt8] {
        guard data.count >= 6, data[0] & 0x0F == 8, (Int(data[0]) << 8 | Int(data[1])) % 31 == 0, data[1] & 0x20 == 0
        else { throw PNGImage.DecodeError("not a zlib stream") }
        var reader = BitReader(bytes: data, index: 2)
        let out = try inflate(&reader)
        let end = reader.index
        guard end + 4 <= data.count else { throw PNGImage.DecodeError("zlib stream without its checksum") }
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in out {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        let expected =
            UInt32(data[end]) << 24 | UInt32(data[end + 1]) << 16 | UInt32(data[end + 2]) << 8 | UInt32(data[end + 3])
        guard b << 16 | a == expected else { throw PNGImage.DecodeError("Adler-32 mismatch") }
        return out
    }

    struct BitReader {
        let bytes: [UInt8]
        var index: Int
        var buffer: UInt32 = 0
        var count = 0

        /// `n` bits, least significant first (RFC 1951, 3.1.1).
        mutating func bits(_ n: Int) throws -> Int {
            while count < n {
                guard index < bytes.count else { throw PNGImage.DecodeError("deflate data ends early") }
                buffer |= UInt32(bytes[index]) << count
                index += 1
                count += 8
            }
            let value = Int(buffer & ((1 << n) - 1))
            buffer >>= n
            count -= n
            return value
        }

        /// Drops the rest of the current byte (it never holds more: refills are a byte at a time).
        mutating func align() {
            buffer = 0
            count = 0
        }
    }

    /// A canonical Huffman code by its code lengths (RFC 1951, 3.2.2), decoded a bit at a time.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length > 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }

        func decode(_ reader: inout BitReader) throws -> Int {
            var code = 0
            var first = 0
            var index = 0
            for length in 1..<16 {
                code |= try reader.bits(1)
                let count = counts[length]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw PNGImage.DecodeError("bad Huffman code")
        }
    }

    static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    static let distanceExtra = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    static func inflate(_ reader: inout BitReader) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(reader.bytes.count * 8)
        var last = false
        while !last {
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                reader.align()
                guard reader.index + 4 <= reader.bytes.count else { throw PNGImage.DecodeError("stored block cut") }
                let length = Int(reader.bytes[reader.index]) | Int(reader.bytes[reader.index + 1]) << 8
                reader.index += 4
                guard reader.index + length <= reader.bytes.count else {
                    throw PNGImage.DecodeError("stored block cut")
                }
                out += reader.bytes[reader.index..<(reader.index + length)]
                reader.index += length
            case 1:
                let literals = Huffman(
                    lengths: [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
                        + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8)
                )
                let distances = Huffman(lengths: [Int](repeating: 5, count: 30))
                try block(&reader, literals, distances, into: &out)
            case 2:
                let literalCount = try reader.bits(5) + 257
                let distanceCount = try reader.bits(5) + 1
                let codeLengthCount = try reader.bits(4) + 4
                var codeLengths = [Int](repeating: 0, count: 19)
                for index in 0..<codeLengthCount { codeLengths[codeLengthOrder[index]] = try reader.bits(3) }
                let lengthCode = Huffman(lengths: codeLengths)
                var lengths: [Int] = []
                while lengths.count < literalCount + distanceCount {
                    let symbol = try lengthCode.decode(&reader)
                    switch symbol {
                    case 0..<16: lengths.append(symbol)
                    case 16:
                        guard let previous = lengths.last else { throw PNGImage.DecodeError("repeat with nothing") }
                        lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
                    case 17: lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
                    default: lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
                    }
                }
                let literals = Huffman(lengths: Array(lengths[0..<literalCount]))
                let distances = Huffman(lengths: Array(lengths[literalCount..<(literalCount + distanceCount)]))
                try block(&reader, literals, distances, into: &out)
            default:
                throw PNGImage.DecodeError("reserved block type")
            }
        }
        return out
    }

    static func block(
        _ reader: inout BitReader,
        _ literals: Huffman,
        _ distances: Huffman,
        into out: inout [UInt8]
    ) throws {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                out.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let lengthIndex = symbol - 257
                guard lengthIndex < lengthBase.count else { throw PNGImage.DecodeError("bad length symbol") }
                let length = lengthBase[lengthIndex] + (try reader.bits(lengthExtra[lengthIndex]))
                let distanceIndex = try distances.decode(&reader)
                guard distanceIndex < distanceBase.count else { throw PNGImage.DecodeError("bad distance symbol") }
                let distance = distanceBase[distanceIndex] + (try reader.bits(distanceExtra[distanceIndex]))
                guard distance <= out.count else { throw PNGImage.DecodeError("distance beyond the output") }
                let start = out.count - distance
                for offset in 0..<length { out.append(out[start + offset]) }
            }
        }
    }
}
