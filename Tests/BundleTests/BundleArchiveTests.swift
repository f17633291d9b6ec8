import Foundation
import TestSupport
import Testing

@testable import Bundle

#if canImport(Glibc)
import Glibc
#endif

/// Hand-crafted archives that try to write outside the folder they are unpacked into.
@Suite struct BundleArchiveTests {
    /// A harmless start, so that the unsafe entry is not the first.
    static let start: [TarEntry] = [.directory("bundle"), .file("bundle/manifest.json", Array("{}".utf8))]

    struct UnsafeCase: Sendable, CustomTestStringConvertible {
        var name: String
        var entries: [TarEntry]
        /// Words the error must contain.
        var reason: String
        var testDescription: String { name }
    }

    static let unsafe: [UnsafeCase] = [
        UnsafeCase(name: "absolute path", entries: [.file("/etc/snapctl-evil", [1])], reason: "absolute path"),
        UnsafeCase(
            name: "dot-dot climbing out",
            entries: [.file("bundle/../../snapctl-evil", [1])],
            reason: "contains '..'"
        ),
        UnsafeCase(name: "dot-dot inside", entries: [.file("bundle/logs/../x", [1])], reason: "contains '..'"),
        UnsafeCase(
            name: "symbolic link to an absolute path",
            entries: [TarEntry(path: "bundle/passwd", kind: .symlink(target: "/etc/passwd"))],
            reason: "absolute path '/etc/passwd'"
        ),
        UnsafeCase(
            name: "symbolic link climbing out",
            entries: [TarEntry(path: "bundle/logs/up", kind: .symlink(target: "../../outside"))],
            reason: "leaves the bundle's folder"
        ),
        UnsafeCase(
            name: "symbolic link through another link",
            entries: [
                TarEntry(path: "bundle/sub/here", kind: .symlink(target: "..")),
                TarEntry(path: "bundle/sub/far", kind: .symlink(target: "here/../../evil")),
            ],
            reason: "goes through another link"
        ),
        UnsafeCase(
            name: "a file written through a symbolic link",
            entries: [
                TarEntry(path: "bundle/dir", kind: .symlink(target: "logs")),
                .file("bundle/dir/x", [1]),
            ],
            reason: "written through the symbolic link 'bundle/dir'"
        ),
        UnsafeCase(
            name: "hard link to a file outside",
            entries: [TarEntry(path: "bundle/shadow", kind: .hardlink(target: "/etc/shadow"))],
            reason: "absolute path"
        ),
        UnsafeCase(
            name: "hard link to something not in the archive",
            entries: [TarEntry(path: "bundle/shadow", kind: .hardlink(target: "other/shadow"))],
            reason: "not an earlier file of the bundle"
        ),
        UnsafeCase(
            name: "character device",
            entries: [TarEntry(path: "bundle/null", kind: .characterDevice)],
            reason: "character device"
        ),
        UnsafeCase(
            name: "block device",
            entries: [TarEntry(path: "bundle/disk", kind: .blockDevice)],
            reason: "block device"
        ),
        UnsafeCase(name: "named pipe", entries: [TarEntry(path: "bundle/fifo", kind: .fifo)], reason: "named pipe"),
        UnsafeCase(
            name: "the same path twice",
            entries: [.file("bundle/manifest.json", [2])],
            reason: "holds it twice"
        ),
        UnsafeCase(
            name: "a second top-level folder",
            entries: [.file("other/x", [1])],
            reason: "outside the top-level folder 'bundle'"
        ),
    ]

    @Test("each unsafe entry is refused by name with its offset", arguments: unsafe)
    func refused(_ testCase: UnsafeCase) throws {
        let entries = try TarReader.entries(TarWriter.archive(Self.start + testCase.entries))
        #expect {
            try BundleArchive.check(entries)
        } throws: { error in
            let text = "\(error)"
            return text.contains(testCase.reason) && (text.contains("at byte") || text.contains("not a snapctl bundle"))
        }
    }

    @Test(
        "reading the crafted .tar.gz from disk refuses it, names the file, and writes nothing",
        arguments: unsafe
    )
    func refusedFromDisk(_ testCase: UnsafeCase) throws {
        let scratch = try Scratch("unsafe")
        defer { scratch.cleanup() }
        let file = try scratch.write(
            "crafted.tar.gz",
            bytes: Gzip.compress(TarWriter.archive(Self.start + testCase.entries))
        )
        #expect {
            try BundleSource.read(file)
        } throws: { error in
            guard case .archive(let named, _)? = error as? BundleError else { return false }
            return named == file && "\(error)".contains(testCase.reason)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["crafted.tar.gz"])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/snapctl-evil"))
    }

    @Test("links that stay inside the folder are allowed and unpack as links")
    func linksInside() throws {
        let scratch = try Scratch("links")
        defer { scratch.cleanup() }
        let archive = try BundleArchive.check(
            TarReader.entries(
                TarWriter.archive(
                    Self.start + [
                        TarEntry(path: "bundle/logs/latest", kind: .symlink(target: "../manifest.json")),
                        TarEntry(path: "bundle/copy.json", kind: .hardlink(target: "bundle/manifest.json")),
                        .file("bundle/./logs/server.err", Array("log".utf8)),
                    ]
                )
            )
        )
        #expect(archive.top == "bundle")
        #expect(archive.files["logs/server.err"] == Array("log".utf8))
        let root = try BundleExtractor.extract(archive, into: scratch.path)
        #expect(root == scratch.path + "/bundle")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/logs/latest") == "../manifest.json")
        #expect(FileManager.default.contents(atPath: root + "/copy.json") == Data("{}".utf8))
        #expect(FileManager.default.contents(atPath: root + "/logs/server.err") == Data("log".utf8))
    }

    @Test("unpacking never replaces what is already there")
    func noOverwrite() throws {
        let scratch = try Scratch("exists")
        defer { scratch.cleanup() }
        try FileManager.default.createDirectory(atPath: scratch.path + "/bundle", withIntermediateDirectories: true)
        let archive = try BundleArchive.check(TarReader.entries(TarWriter.archive(Self.start)))
        #expect {
            try BundleExtractor.extract(archive, into: scratch.path)
        } throws: { error in
            "\(error)".contains("cannot write \(scratch.path)/bundle") && "\(error)".contains("exists")
        }
    }

    @Test("an archive whose files lie at the top, or that is empty, is not a bundle")
    func layout() throws {
        #expect {
            try BundleArchive.check(TarReader.entries(TarWriter.archive([.file("manifest.json", [1])])))
        } throws: { error in
            "\(error)".contains("not inside a folder")
        }
        #expect(throws: ArchiveFault.badLayout(reason: "the archive is empty")) {
            try BundleArchive.check(TarReader.entries(TarWriter.archive([])))
        }
    }

    @Test("make then read gives the files back under one folder, with their folders")
    func makeAndRead() throws {
        let files: [String: [UInt8]] = [
            "manifest.json": Array("{}".utf8), "snapshots/0001-before-a.massif": [1, 2], "logs/x/y.log": [3],
        ]
        let bytes = BundleArchive.make(top: "run-1", files: files, time: 1_700_000_000)
        let archive = try BundleArchive.read(gzip: bytes)
        #expect(archive.top == "run-1")
        #expect(archive.files == files)
        #expect(
            archive.members.filter { if case .directory = $0.entry.kind { true } else { false } }.map(\.path).sorted()
                == ["logs", "logs/x", "snapshots"]
        )
    }
}
