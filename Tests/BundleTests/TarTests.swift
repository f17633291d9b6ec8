import Foundation
import TestSupport
import Testing

@testable import Bundle

@Suite struct TarTests {
    static let longName =
        "top/" + String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 60) + ".massif"
    /// Over 256 bytes with a last component over 100: ustar cannot hold it, a pax record must.
    static let veryLongName =
        "top/" + String(repeating: String(repeating: "x", count: 60) + "/", count: 4)
        + String(repeating: "y", count: 120)

    static let entries: [TarEntry] = [
        .directory("top", time: 1_700_000_000),
        .file("top/manifest.json", Array("{}\n".utf8), time: 1_700_000_000),
        .file("top/empty", [], time: 1_700_000_000),
        .file("top/logs/server.err", Array(repeating: UInt8(ascii: "e"), count: 1025), mode: 0o600, time: 5),
        .file(longName, Array("split into prefix and name".utf8)),
        .file(veryLongName, Array("needs a pax path".utf8)),
        .file("top/snapshots/ünïcode-label.massif", Array("utf-8 names".utf8)),
        TarEntry(path: "top/link", kind: .symlink(target: "manifest.json")),
        TarEntry(path: "top/far-link", kind: .symlink(target: String(repeating: "../", count: 40) + "top/empty")),
    ]

    @Test("what the writer writes, the reader reads back entry for entry")
    func roundTrip() throws {
        let read = try TarReader.entries(TarWriter.archive(Self.entries))
        #expect(read.count == Self.entries.count)
        for (written, got) in zip(Self.entries, read) {
            var expectedPath = written.path
            if case .directory = written.kind { expectedPath += "/" }
            #expect(got.path == expectedPath)
            #expect(got.kind == written.kind)
            #expect(got.data == written.data)
            #expect(got.mode == written.mode)
            #expect(got.modificationTime == written.modificationTime)
        }
        // Entries start on 512-byte blocks; the stream ends with two zero blocks.
        let archive = TarWriter.archive(Self.entries)
        #expect(archive.count % 512 == 0)
        #expect(archive.suffix(1024).allSatisfy { $0 == 0 })
    }

    @Test("GNU tar lists and unpacks what we write, byte for byte; we read what GNU tar writes")
    func interoperatesWithGNUTar() throws {
        let scratch = try Scratch("tar")
        defer { scratch.cleanup() }
        let files = Self.entries.filter { if case .file = $0.kind { return true } else { return false } }
        let archive = try scratch.write("ours.tar", bytes: TarWriter.archive(files))
        try FileManager.default.createDirectory(atPath: scratch.path + "/out", withIntermediateDirectories: true)
        let untar = try Programs.run("/bin/tar", ["-xf", archive, "-C", scratch.path + "/out"])
        #expect(untar.status == 0, "\(untar.stderr)")
        for entry in files {
            let data = try #require(FileManager.default.contents(atPath: scratch.path + "/out/" + entry.path))
            #expect([UInt8](data) == entry.data, "\(entry.path)")
        }
        // And back: GNU tar's own archive of the same tree (with its long-name members).
        let theirs = scratch.path + "/theirs.tar"
        #expect(
            try Programs.run("/bin/tar", ["--format=gnu", "-cf", theirs, "-C", scratch.path + "/out", "top"]).status
                == 0
        )
        let read = try TarReader.entries([UInt8](try #require(FileManager.default.contents(atPath: theirs))))
        for entry in files {
            let match = read.first { $0.path == entry.path }
            #expect(match?.data == entry.data, "\(entry.path) in GNU tar's archive")
        }
        #expect(
            try Programs.run("/bin/tar", ["--format=pax", "-cf", theirs, "-C", scratch.path + "/out", "top"]).status
                == 0
        )
        let pax = try TarReader.entries([UInt8](try #require(FileManager.default.contents(atPath: theirs))))
        #expect(pax.contains { $0.path == Self.veryLongName && $0.data == Array("needs a pax path".utf8) })
    }

    @Test("a damaged header is refused with its offset and both checksums")
    func badChecksum() {
        var archive = TarWriter.archive(Self.entries)
        // The second header (after the directory's single block) gets one name byte changed.
        archive[512 + 5] ^= 0x20
        #expect {
            try TarReader.entries(archive)
        } throws: { error in
            guard case .badHeaderChecksum(let offset, let stored, let computed)? = error as? ArchiveFault else {
                return false
            }
            return offset == 512 && stored != computed && "\(error)".contains("at byte 512")
        }
    }

    @Test("an archive cut inside a file names the entry, its offset and the bytes missing")
    func truncatedInsideAFile() {
        let archive = TarWriter.archive(Self.entries)
        // Up to the middle of the 1025-byte log file: its header follows the folder (one block), the
        // manifest (two) and the empty file (one).
        let cut = Array(archive.prefix(2048 + 512 + 600))
        #expect {
            try TarReader.entries(cut)
        } throws: { error in
            guard case .truncatedTar(let offset, let entry, let needed, let available)? = error as? ArchiveFault else {
                return false
            }
            return offset == 2048 && entry == "top/logs/server.err" && needed == 512 + 1536 && available == 1112
        }
    }

    @Test("an archive cut at a header or before its end blocks is truncated too")
    func truncatedAtABoundary() {
        let archive = TarWriter.archive([.file("top/a", [1, 2, 3])])
        #expect(throws: ArchiveFault.truncatedTar(offset: 1024, entry: nil, needed: 512, available: 76)) {
            try TarReader.entries(Array(archive.prefix(1100)))
        }
        // Cut inside the padding of the file's last block.
        #expect(throws: ArchiveFault.truncatedTar(offset: 0, entry: "top/a", needed: 1024, available: 612)) {
            try TarReader.entries(Array(archive.prefix(612)))
        }
        #expect(throws: ArchiveFault.missingEndOfArchive(offset: 1024)) {
            try TarReader.entries(Array(archive.prefix(1024)))
        }
    }

    @Test("a size field that is not octal is named")
    func badNumber() {
        var archive = TarWriter.archive([.file("top/a", [1, 2, 3])])
        archive[124] = UInt8(ascii: "9")
        // Keep the checksum right so that the number is what is wrong.
        let checksum = TarReader.checksum(Array(archive[0..<512]))
        let digits = Array(String(checksum, radix: 8).utf8)
        for index in 0..<6 { archive[148 + index] = UInt8(ascii: "0") }
        for (index, digit) in digits.reversed().enumerated() { archive[148 + 5 - index] = digit }
        #expect {
            try TarReader.entries(archive)
        } throws: { error in
            guard case .badHeaderField(0, "size", _)? = error as? ArchiveFault else { return false }
            return "\(error)".contains("'size'")
        }
    }
}
