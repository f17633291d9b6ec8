import Foundation
import TestSupport
import Testing

@testable import Bundle

/// Archives built by an attacker: sizes near 2^63 in every place tar keeps a size, gzip bombs, and the
/// limits that stop them, each an error with its offset, never a crash.
@Suite struct HostileArchiveTests {
    /// One tar header block with a good checksum; `size` is the raw 12-byte size field.
    static func header(_ name: String, flag: UInt8 = UInt8(ascii: "0"), size: [UInt8]) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        for (index, byte) in name.utf8.enumerated() { block[index] = byte }
        for (index, byte) in "0000644".utf8.enumerated() { block[100 + index] = byte }
        for (index, byte) in size.prefix(12).enumerated() { block[124 + index] = byte }
        for (index, byte) in "00000000000".utf8.enumerated() { block[136 + index] = byte }
        block[156] = flag
        for (index, byte) in "ustar\u{0}00".utf8.enumerated() { block[257 + index] = byte }
        let sum = TarReader.checksum(block)
        let digits = Array(String(sum, radix: 8).utf8)
        for index in 0..<6 { block[148 + index] = UInt8(ascii: "0") }
        for (index, digit) in digits.reversed().enumerated() { block[148 + 5 - index] = digit }
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return block
    }

    static func octal(_ value: Int) -> [UInt8] {
        var digits = Array(String(value, radix: 8).utf8)
        while digits.count < 11 { digits.insert(UInt8(ascii: "0"), at: 0) }
        return digits + [0]
    }

    /// A base-256 size field holding 2^63 - 1.
    static let hugeBase256: [UInt8] = [0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]

    /// A pax record with its length right.
    static func record(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length += 1 }
        return "\(length)" + body
    }

    static func pax(_ records: String) -> [UInt8] {
        let data = Array(records.utf8)
        var out = header("top/PaxHeader", flag: UInt8(ascii: "x"), size: octal(data.count)) + data
        while out.count % 512 != 0 { out.append(0) }
        return out
    }

    static let end = [UInt8](repeating: 0, count: 1024)

    static func expectLimitOrFault(_ archive: [UInt8], _ check: (ArchiveFault) -> Bool) {
        #expect {
            try TarReader.entries(archive)
        } throws: { error in
            guard let fault = error as? ArchiveFault else { return false }
            return check(fault) && "\(fault)".contains("byte")
        }
    }

    @Test("a base-256 size of 2^63 - 1 is refused at its header by the entry-size limit")
    func base256Size() {
        let archive = Self.header("top/a", size: Self.hugeBase256) + Self.end
        Self.expectLimitOrFault(archive) { fault in
            guard case .limitExceeded(0, _, ArchiveLimits.defaultEntryBytes, "--max-entry-size") = fault else {
                return false
            }
            return "\(fault)".contains("--max-entry-size")
        }
    }

    @Test("a pax size of 2^63 - 1, or past 2^64, is refused, never computed with")
    func paxSize() {
        let archive =
            Self.pax(Self.record("size", "9223372036854775807")) + Self.header("top/a", size: Self.octal(0)) + Self.end
        Self.expectLimitOrFault(archive) { fault in
            if case .limitExceeded(1024, _, _, "--max-entry-size") = fault { return true }
            return false
        }
        let past = Self.record("size", "99999999999999999999999")
        Self.expectLimitOrFault(Self.pax(past) + Self.header("top/a", size: Self.octal(0)) + Self.end) { fault in
            if case .badPaxHeader(1024, _) = fault { return true }
            return false
        }
    }

    @Test("a pax record whose length is near 2^63 is a malformed record")
    func paxRecordLength() {
        let archive = Self.pax("9223372036854775800 path=x\n") + Self.header("top/a", size: Self.octal(0)) + Self.end
        Self.expectLimitOrFault(archive) { fault in
            if case .badPaxHeader(0, let reason) = fault { return reason.contains("malformed record") }
            return false
        }
    }

    @Test("a GNU long name claiming 2^63 - 1 bytes is refused before it is read")
    func longName() {
        let archive = Self.header("././@LongLink", flag: UInt8(ascii: "L"), size: Self.hugeBase256) + Self.end
        Self.expectLimitOrFault(archive) { fault in
            if case .limitExceeded(0, _, ArchiveLimits.metadataBytes, nil) = fault { return true }
            return false
        }
    }

    @Test("entry count, entry size and total size each stop reading with the flag that raises them")
    func limits() {
        let files = (0..<5).map { TarEntry.file("top/f\($0)", [UInt8](repeating: 7, count: 3000)) }
        let archive = TarWriter.archive([.directory("top")] + files)
        #expect(throws: Never.self) { try TarReader.entries(archive) }
        #expect(
            throws: ArchiveFault.limitExceeded(
                offset: 512 * 1 + 3584 * 3,
                what: "entries",
                limit: 4,
                flag: "--max-entries"
            )
        ) {
            try TarReader.entries(archive, limits: ArchiveLimits(entries: 4))
        }
        #expect {
            try TarReader.entries(archive, limits: ArchiveLimits(entryBytes: 2999))
        } throws: { error in
            "\(error)".contains("--max-entry-size") && "\(error)".contains("at byte 512 ")
        }
        #expect {
            try TarReader.entries(archive, limits: ArchiveLimits(totalBytes: 10_000))
        } throws: { error in
            guard case .limitExceeded(let offset, _, 10_000, "--max-unpacked")? = error as? ArchiveFault else {
                return false
            }
            return offset == 512 + 3584 * 3
        }
    }

    @Test("a gzip bomb: 16 MiB of zeros in a few kilobytes is refused by --max-unpacked, from disk too")
    func gzipBomb() throws {
        let tar = TarWriter.archive([.directory("top"), .file("top/zeros", [UInt8](repeating: 0, count: 16 << 20))])
        let bomb = Gzip.compress(tar, level: 9)
        #expect(bomb.count < 64 << 10)
        #expect(throws: ArchiveFault.self) { try Gzip.decompress(bomb, limit: 1 << 20) }
        let scratch = try Scratch("bomb")
        defer { scratch.cleanup() }
        let file = try scratch.write("bomb.tar.gz", bytes: bomb)
        #expect {
            try BundleSource.read(file, limits: ArchiveLimits(totalBytes: 1 << 20))
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(file + ": ") && text.contains("--max-unpacked") && text.contains("1048576")
        }
        // Within the limits it streams: every byte hashed, none kept (zeros is not a document).
        let contents = try BundleSource.read(file)
        #expect(contents.digests["zeros"] != nil)
        #expect(contents.documents.isEmpty)
    }

    @Test("the streaming gzip reader gives the same bytes as zlib in one go, and the same faults")
    func streamingGzip() throws {
        var input: [UInt8] = []
        var state: UInt64 = 42
        for _ in 0..<300_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            input.append(UInt8(truncatingIfNeeded: state >> 59))
        }
        let compressed = Gzip.compress(input) + Gzip.compress(Array("second member".utf8)) + [0, 0]
        #expect(try Gzip.decompress(compressed) == input + Array("second member".utf8))
        let cut = Array(compressed.prefix(compressed.count / 2))
        #expect {
            try Gzip.decompress(cut)
        } throws: { error in
            guard case .truncatedGzip(let offset)? = error as? ArchiveFault else { return false }
            return offset <= cut.count
        }
    }
}
