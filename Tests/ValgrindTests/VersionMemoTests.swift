import Foundation
import TestSupport
import Testing

@testable import Valgrind

/// `--version` answers remembered by the identity of the program's file.
@Suite("Version memo")
struct VersionMemoTests {
    /// A program that prints `line` and appends a mark to `COUNT` each time it runs.
    static func countingProgram(in scratch: Scratch, name: String, line: String) throws -> String {
        let path = try scratch.write(name, "#!/bin/sh\necho run >> '\(scratch.path)/COUNT-\(name)'\necho '\(line)'\n")
        chmod(path, 0o755)
        return path
    }

    static func runs(_ scratch: Scratch, _ name: String) -> Int {
        let text = (try? String(contentsOfFile: scratch.path + "/COUNT-\(name)", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").count
    }

    @Test("what was remembered comes back for the same file, and not once the file changed")
    func recallFollowsIdentity() throws {
        let scratch = try Scratch("memo")
        defer { scratch.cleanup() }
        let program = try scratch.write("prog", "x")
        let memo = VersionMemo(cacheRoot: scratch.path + "/cache")
        let identity = try #require(VersionMemo.identity(of: program))
        #expect(memo.recall(program, identity: identity) == nil)
        memo.remember("prog 1.0\n", for: program, identity: identity)
        #expect(memo.recall(program, identity: identity) == "prog 1.0\n")
        // A chmod changes the ctime, a rewrite the size and mtime: either is another file.
        chmod(program, 0o700)
        let changed = try #require(VersionMemo.identity(of: program))
        #expect(changed != identity)
        #expect(memo.recall(program, identity: changed) == nil)
        #expect(VersionMemo.identity(of: scratch.path + "/missing") == nil)
    }

    @Test("a memo of another path, a malformed one and an oversized one are ignored")
    func badMemosAreIgnored() throws {
        let scratch = try Scratch("memo-bad")
        defer { scratch.cleanup() }
        let program = try scratch.write("prog", "x")
        let memo = VersionMemo(cacheRoot: scratch.path)
        let identity = try #require(VersionMemo.identity(of: program))
        try FileManager.default.createDirectory(atPath: memo.directory, withIntermediateDirectories: true)
        let file = memo.file(for: program)
        // Another path's memo under this path's name (a hash collision, or a file put there).
        try VersionMemo.render("other 9.9\n", program: "/elsewhere/prog", identity: identity)
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(memo.recall(program, identity: identity) == nil)
        try "garbage".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(memo.recall(program, identity: identity) == nil)
        let huge = VersionMemo.render(
            String(repeating: "v", count: VersionMemo.fileLimit),
            program: program,
            identity: identity
        )
        try huge.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(memo.recall(program, identity: identity) == nil)
        try Data([0xff, 0xfe]).write(to: URL(fileURLWithPath: file))
        #expect(memo.recall(program, identity: identity) == nil)
        // A symlink in place of the memo is not followed.
        unlink(file)
        let target = try scratch.write("target", VersionMemo.render("prog 1.0\n", program: program, identity: identity))
        symlink(target, file)
        #expect(memo.recall(program, identity: identity) == nil)
        // An output larger than a version could be is not remembered.
        unlink(file)
        memo.remember(String(repeating: "v", count: VersionMemo.outputLimit + 1), for: program, identity: identity)
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test("valgrind --version runs once for the same file, and again once the file changed")
    func locateRemembersValgrind() async throws {
        let scratch = try Scratch("memo-vg")
        defer { scratch.cleanup() }
        _ = try Self.countingProgram(in: scratch, name: "valgrind", line: "valgrind-3.19.0")
        _ = try Self.countingProgram(in: scratch, name: "vgdb", line: "vgdb")
        let memo = VersionMemo(cacheRoot: scratch.path + "/cache")
        for _ in 0..<3 {
            guard case .found(let found) = await ValgrindInstallation.locate(path: scratch.path, memo: memo) else {
                Issue.record("the fake valgrind was not found")
                return
            }
            #expect(found.version == ValgrindVersion(3, 19))
        }
        #expect(Self.runs(scratch, "valgrind") == 1)
        chmod(scratch.path + "/valgrind", 0o700)
        _ = await ValgrindInstallation.locate(path: scratch.path, memo: memo)
        #expect(Self.runs(scratch, "valgrind") == 2)
        // Without a memo it always runs.
        _ = await ValgrindInstallation.locate(path: scratch.path)
        #expect(Self.runs(scratch, "valgrind") == 3)
    }
}
