import Foundation
import TestSupport
import Testing

@testable import Bundle

@Suite struct GzipTests {
    /// Bytes that compress somewhat but not trivially.
    static func sample(_ count: Int) -> [UInt8] {
        var state: UInt32 = 2_463_534_242
        return (0..<count).map { index in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return index % 7 == 0 ? UInt8(truncatingIfNeeded: state) : UInt8(ascii: "a") + UInt8(index % 26)
        }
    }

    @Test(arguments: [0, 1, 511, 70_000, 1 << 20])
    func roundTrip(count: Int) throws {
        let input = Self.sample(count)
        let compressed = Gzip.compress(input)
        #expect(compressed.prefix(2) == [0x1f, 0x8b])
        #expect(try Gzip.decompress(compressed) == input)
    }

    @Test("the same input gives the same bytes (no time stamp, no file name)")
    func deterministic() {
        let input = Self.sample(10_000)
        #expect(Gzip.compress(input) == Gzip.compress(input))
        // MTIME (bytes 4..<8) is zero and FLG (byte 3) has no FNAME bit.
        #expect(Array(Gzip.compress(input)[3..<8]) == [0, 0, 0, 0, 0])
    }

    @Test("a truncated stream is an error naming the offset where it ends, at every cut")
    func truncated() throws {
        let compressed = Gzip.compress(Self.sample(100_000))
        for cut in [10, compressed.count / 3, compressed.count / 2, compressed.count - 9, compressed.count - 1] {
            let prefix = Array(compressed.prefix(cut))
            #expect(throws: ArchiveFault.self) { try Gzip.decompress(prefix) }
            do {
                _ = try Gzip.decompress(prefix)
            } catch {
                guard case .truncatedGzip(let offset) = error else {
                    Issue.record("cut at \(cut): expected truncatedGzip, got \(error)")
                    continue
                }
                #expect(offset <= cut)
                #expect(offset >= cut - 8, "the offset says where the bytes ran out")
                #expect(error.description.contains("truncated"))
                #expect(error.description.contains("byte \(offset)"))
            }
        }
    }

    @Test("a damaged byte is reported as corrupt with its place")
    func corrupt() {
        var compressed = Gzip.compress(Self.sample(50_000))
        // The CRC-32 of the trailer: the data inflate fine, the check fails.
        compressed[compressed.count - 6] ^= 0xff
        #expect {
            try Gzip.decompress(compressed)
        } throws: { error in
            guard case .corruptGzip(let offset, let reason)? = error as? ArchiveFault else { return false }
            return offset > 0 && reason.contains("check")
        }
    }

    @Test("something that is not gzip says so and shows its first bytes")
    func notGzip() {
        #expect {
            try Gzip.decompress(Array("PK\u{3}\u{4}zipfile".utf8))
        } throws: { error in
            let fault = error as? ArchiveFault
            return fault == .notGzip(firstBytes: [0x50, 0x4b, 3, 4]) && "\(error)".contains("50 4b 03 04")
        }
    }

    @Test("several members are one stream, as gzip(1) reads them")
    func concatenatedMembers() throws {
        let first = Array("first part\n".utf8)
        let second = Array("second part\n".utf8)
        #expect(try Gzip.decompress(Gzip.compress(first) + Gzip.compress(second)) == first + second)
        // Trailing zeros after the last member are padding, not an error; other bytes are.
        #expect(try Gzip.decompress(Gzip.compress(first) + [0, 0, 0]) == first)
        #expect(throws: ArchiveFault.self) { try Gzip.decompress(Gzip.compress(first) + [1, 2, 3]) }
    }

    @Test("gzip(1) reads what we write, and we read what gzip(1) writes")
    func interoperatesWithGzip() throws {
        let input = Self.sample(200_000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapctl-gz-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(Gzip.compress(input)).write(to: URL(fileURLWithPath: directory + "/ours.gz"))
        try Data(input).write(to: URL(fileURLWithPath: directory + "/theirs"))
        #expect(
            try Programs.run("/bin/sh", ["-c", "cd \(directory) && gzip -dc ours.gz | cmp - theirs && gzip -9 theirs"])
                .status
                == 0
        )
        let theirs = try #require(FileManager.default.contents(atPath: directory + "/theirs.gz"))
        #expect(try Gzip.decompress([UInt8](theirs)) == input)
    }
}
