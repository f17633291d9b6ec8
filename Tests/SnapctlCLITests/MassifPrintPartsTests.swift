import ArgumentParser
import Foundation
import Massif
import TestSupport
import Testing

@testable import SnapctlCLI

/// `snapctl massif print` reading a file in parts on two threads: the same print and the same errors as one
/// thread, whatever the file holds. The fixtures are cut as the bench file is (`minimumPartSize` 0 lets a
/// small file be cut).
@Suite struct MassifPrintPartsTests {
    static let names = ["mariadbd-all-snapshots", "mariadbd-final", "mariadbd-pages-as-heap"]

    static func write(_ bytes: [UInt8], name: String = "parts.massif") throws -> String {
        let url = try MassifCommandTests.write("", name: name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// The print of `path` in `parts` parts, and how many were used.
    static func print(
        _ path: String,
        parts: Int,
        options: MassifRenderer.Options = MassifRenderer.Options()
    ) throws(MassifError) -> (text: String, parts: Int) {
        let outcome = try MassifPrintParts.print(path, options: options, parts: parts, minimumPartSize: 0)
        return (outcome.printer?.finish() ?? "", outcome.parts)
    }

    /// The errors of reading `bytes` on one thread and in two parts (and in four, which must be the same).
    static func errors(_ bytes: [UInt8]) throws -> (one: MassifError?, two: MassifError?) {
        let path = try write(bytes)
        func error(parts: Int) -> MassifError? {
            do {
                _ = try print(path, parts: parts)
                return nil
            } catch {
                return error
            }
        }
        let two = error(parts: 2)
        #expect(error(parts: 4) == two)
        return (error(parts: 1), two)
    }

    @Test(arguments: names)
    func twoPartsPrintWhatOneThreadPrints(name: String) throws {
        let path = try Fixtures.path(name + ".massif")
        let file = try MassifFile.parse(try Fixtures.bytes(name + ".massif"), fileName: path)
        for options in [
            MassifRenderer.Options(), MassifRenderer.Options(threshold: 0),
            MassifRenderer.Options(threshold: 2.5, treeSnapshots: [1, file.snapshots.count - 1]),
        ] {
            let one = try Self.print(path, parts: 1, options: options)
            let two = try Self.print(path, parts: 2, options: options)
            #expect(one.parts == 1)
            #expect(two.parts == 2)
            #expect(two.text == one.text)
            #expect(two.text == MassifRenderer.render(file, options: options))
        }
        // As many parts as asked for, when the file has the snapshots.
        let four = try Self.print(path, parts: 4)
        #expect(four.parts == 4)
        #expect(four.text == (try Self.print(path, parts: 1)).text)
    }

    @Test func theCommandPrintsWhatTheNestedRendererPrints() throws {
        let path = try Fixtures.path("mariadbd-final.massif")
        let command = try #require(try Snapctl.parseAsRoot(["massif", "print", path]) as? MassifPrintCommand)
        let file = try MassifFile.parse(try Fixtures.bytes("mariadbd-final.massif"), fileName: path)
        #expect(try command.output() == MassifRenderer.render(file))
    }

    /// `bytes` with line `number` (1-based) replaced by `text`.
    static func replacing(line number: Int, with text: String, in bytes: [UInt8]) -> [UInt8] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        lines[number - 1] = Array(text.utf8)
        return Array(lines.joined(separator: [0x0A]))
    }

    /// The 1-based numbers of the `time=` lines of a file.
    static func timeLines(_ bytes: [UInt8]) -> [Int] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.starts(with: Array("time=".utf8)) }.map { $0.offset + 1 }
    }

    @Test func anErrorInTheSecondPartNamesItsLineInTheFile() throws {
        let bytes = try Fixtures.bytes("mariadbd-all-snapshots.massif")
        let late = try #require(Self.timeLines(bytes).last)
        let bad = Self.replacing(line: late, with: "time=later", in: bytes)
        let (one, two) = try Self.errors(bad)
        #expect(one?.line == late)
        #expect(two == one)
        #expect(
            try #require(two).description.hasSuffix(
                ":\(late): expected a number after \"time=\" (digits, no sign, no leading zeros), got \"time=later\""
            )
        )
    }

    @Test func theFirstErrorInTheFileWinsWhicheverPartFindsIt() throws {
        let bytes = try Fixtures.bytes("mariadbd-all-snapshots.massif")
        let times = Self.timeLines(bytes)
        let early = times[1]
        var bad = Self.replacing(line: try #require(times.last), with: "time=later", in: bytes)
        bad = Self.replacing(line: early, with: "time=early", in: bad)
        let (one, two) = try Self.errors(bad)
        #expect(two?.line == early)
        #expect(two == one)
    }

    @Test func aTruncatedFileFailsAsWithOneThread() throws {
        let bytes = try Fixtures.bytes("mariadbd-final.massif")
        let lineEnds = bytes.indices.filter { bytes[$0] == 0x0A }
        // Cut in the middle of a line, at a line's end inside a tree, and just before the last line's newline.
        for end in [bytes.count * 3 / 4, lineEnds[lineEnds.count * 4 / 5] + 1, bytes.count - 1] {
            let (one, two) = try Self.errors(Array(bytes[..<end]))
            #expect(one != nil)
            #expect(two == one)
            #expect(two?.line ?? 0 > bytes[..<(bytes.count / 2)].filter { $0 == 0x0A }.count)
        }
    }

    @Test(arguments: ["mariadbd-all-snapshots", "mariadbd-final"])
    func aCutAfterAnIncompleteSnapshotFallsBackToOneParser(name: String) throws {
        // The snapshot before the cut (the first snapshot after the middle byte, as `cuts` finds it) is left
        // incomplete: a detailed one claims a child more than its root has, a light one claims a tree it lacks.
        // One thread fails at the line of the cut; so must two, whose first part does not end between snapshots.
        let bytes = try Fixtures.bytes(name + ".massif")
        let marker = Array("\n#-----------\nsnapshot=".utf8)
        let cut =
            try #require(
                (bytes.count / 2..<(bytes.count - marker.count)).first {
                    Array(bytes[$0..<($0 + marker.count)]) == marker
                }
            ) + 1
        var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
        let separator = bytes[..<cut].filter { $0 == 0x0A }.count
        #expect(lines[separator] == "#-----------")
        let kind = try #require((0..<separator).last { lines[$0].hasPrefix("heap_tree=") })
        let expected: String
        if lines[kind] == "heap_tree=empty" {
            lines[kind] = "heap_tree=detailed"
            expected = "expected the tree's top line"
        } else {
            let root = kind + 1
            let count = try #require(Int(lines[root].dropFirst().prefix { $0 != ":" }))
            lines[root] = "n\(count + 1)" + lines[root].drop { $0 != ":" }
            expected = "expected child \(count + 1) of \(count + 1) of the node at line \(root + 1)"
        }
        let bad = Array(lines.joined(separator: "\n").utf8)
        let (one, two) = try Self.errors(bad)
        #expect(one?.line == separator + 1)
        #expect(one?.description.contains(expected) == true, "\(String(describing: one))")
        #expect(two == one)
    }

    @Test func aCutBeforeTheFirstSnapshotEndsIsReadByOneParser() throws {
        // Long desc lines put the middle of the file in the header: the only cut is at the first snapshot, which
        // the first part cannot end between snapshots before, so its parser reads everything.
        let bytes = try Fixtures.bytes("mariadbd-snapshot.massif")
        let desc = Array(("desc: " + String(repeating: "--x=y ", count: 400) + "\n").utf8)
        let long = Array(repeating: desc, count: 10).flatMap { $0 } + bytes
        let path = try Self.write(long)
        let one = try Self.print(path, parts: 1)
        let two = try Self.print(path, parts: 2)
        #expect(two.parts == 1)
        #expect(two.text == one.text)
        #expect(one.text.contains("Massif:     " + String(repeating: "--x=y ", count: 400).dropLast()))
    }

    @Test func aMissingFileOrADirectoryIsAnErrorNamingIt() throws {
        let directory = FileManager.default.temporaryDirectory.path
        #expect {
            try Self.print(directory, parts: 2)
        } throws: { error in
            (error as? MassifError)?.description == "\(directory): expected a massif file, got a directory"
        }
        let missing = directory + "/snapctl-no-such-\(UUID().uuidString).massif"
        #expect(throws: MassifError.self) { try Self.print(missing, parts: 2) }
    }
}
