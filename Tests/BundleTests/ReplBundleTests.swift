import Foundation
import RunRecord
import TestSupport
import Testing

@testable import Bundle

/// A run explored at the `snapctl repl` prompt travels like a session's: packed, verified and replayed,
/// with the growth between two `snap` commands as the headline (integration: real valgrind, vgdb and
/// mariadbd).
@Suite("a REPL run as a bundle (integration)", .serialized)
struct ReplBundleTests {
    @Test("snap, SQL, snap at the prompt; pack, verify and replay reproduce the growth between the snaps")
    func replRunReplays() async throws {
        let scratch = try Scratch("repl")
        defer { scratch.cleanup() }
        let input = """
            CREATE DATABASE d;
            USE d;
            snap before-load
            CREATE TABLE t (id INT, v VARCHAR(100)) ENGINE=MEMORY;
            INSERT INTO t SELECT seq, REPEAT('x', 90)
              FROM seq_1_to_30000;
            snap after-load
            quit

            """
        let run = scratch.path + "/run"
        let repl = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.snapctl(["repl", "--out", run], input: input)
        }
        #expect(repl.status == 0, "\(repl.stdout)\n\(repl.stderr)")
        let manifest = try RunManifest.decode(
            try #require(FileManager.default.contents(atPath: run + "/manifest.json")),
            path: run
        )
        #expect(manifest.steps.map(\.kind) == [.sql, .sql, .snap, .sql, .sql, .snap])
        // The report measures the second snap from the first: the MEMORY table's rows.
        let report = try #require(FileManager.default.contents(atPath: run + "/report.txt"))
        #expect(String(decoding: report, as: UTF8.self).contains("since 'before-load'"))

        let bundle = scratch.path + "/repl.tar.gz"
        let pack = try Programs.snapctl(["bundle", "pack", run, "-o", bundle])
        #expect(pack.status == 0, "\(pack.stderr)")
        let verify = try Programs.snapctl(["bundle", "verify", bundle])
        #expect(verify.status == 0, "\(verify.stderr)")

        let replay = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.snapctl(["replay", bundle, "--out", scratch.path + "/again"])
        }
        #expect(replay.status == 0, "\(replay.stdout)\n\(replay.stderr)")
        let lines = replay.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("*") && $0.contains("after-load") && $0.hasSuffix("reproduced") })
        #expect(lines.contains { $0.hasPrefix("reproduced: step 'after-load' grew +") })
        #expect(processesMentioning(scratch.path).isEmpty)
    }
}
