import Foundation
import RunRecord
import TestSupport
import Testing

@testable import Bundle

/// Bundles that replay refuses before any server starts, and pack's refusals.
@Suite struct ReplayRefusalTests {
    /// The synthetic run of ``BundleComposerTests``, changed by `edit`, packed and unpacked into a folder.
    static func folder(in scratch: Scratch, _ edit: (inout RunManifest) -> Void) throws -> String {
        var files = BundleComposerTests.runFiles()
        var manifest = try RunManifest.decode(Data(files["manifest.json"] ?? []), path: "manifest.json")
        edit(&manifest)
        files["manifest.json"] = [UInt8](manifest.jsonData())
        let composed = try BundleComposer.compose(
            PackRequest(
                top: "synthetic",
                files: files,
                archiveName: "synthetic.tar.gz",
                redactLiterals: false,
                toolVersion: "0",
                machine: BundleComposerTests.machine,
                packedAt: "2026-01-03T00:00:00Z"
            )
        )
        let archive = try BundleArchive.read(
            gzip: BundleArchive.make(top: composed.top, files: composed.files, time: 0)
        )
        return try BundleExtractor.extract(archive, into: scratch.path)
    }

    @Test("a run against an attached server cannot be replayed")
    func attached() async throws {
        let scratch = try Scratch("attached")
        defer { scratch.cleanup() }
        let folder = try Self.folder(in: scratch) { $0.server?.mode = "attached" }
        await #expect {
            try await Replay.run(Replay.Options(bundle: folder, out: scratch.path + "/r"))
        } throws: { error in
            guard case .attachedRun(folder, 4242)? = error as? BundleError else { return false }
            return "\(error)".contains("attached to pid 4242")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/r"))
    }

    @Test("a recording without any heap change has nothing to reproduce")
    func nothingToCompare() async throws {
        let scratch = try Scratch("nothing")
        defer { scratch.cleanup() }
        let folder = try Self.folder(in: scratch) { $0.snapshots = [] }
        await #expect {
            try await Replay.run(Replay.Options(bundle: folder, out: scratch.path + "/r"))
        } throws: { error in
            "\(error)".hasSuffix(
                "no step of the recorded run has both a before and an after snapshot, so there is no heap change to reproduce"
            )
        }
    }

    @Test("pack refuses what is not a run directory, with exit 1")
    func packNotARun() throws {
        let scratch = try Scratch("notrun")
        defer { scratch.cleanup() }
        let missing = try Programs.snapctl(["bundle", "pack", scratch.path + "/none"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("\(scratch.path)/none is not a snapctl run directory: no such directory"))
        let empty = try Programs.snapctl(["bundle", "pack", scratch.path])
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("it has no manifest.json; give a directory written by snapctl session"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test("replay and verify of a file that does not exist say so, with exit 1")
    func noSuchFile() throws {
        let verify = try Programs.snapctl(["bundle", "verify", "/tmp/snapctl-no-such-bundle.tar.gz"])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("cannot read /tmp/snapctl-no-such-bundle.tar.gz: No such file or directory"))
        let replay = try Programs.snapctl(["replay", "/tmp/snapctl-no-such-bundle.tar.gz"])
        #expect(replay.status == 1)
        let tolerance = try Programs.snapctl(["replay", "x.tar.gz", "--tolerance", "ten"])
        #expect(tolerance.status == 64)
        #expect(
            tolerance.stderr.contains("--tolerance: expected a percentage like 10% or a fraction like 0.1, got 'ten'")
        )
    }
}
