import Foundation
import RunRecord
import TestSupport
import Testing

@testable import Bundle

#if canImport(Glibc)
import Glibc
#endif

/// A bundle as an attacker would edit it, through the snapctl binary on the real run: replay says what it
/// will do and refuses what was not allowed before any server starts.
extension BundleIntegrationTests {
    /// The fixture's bundle with plan.yaml edited and SHA256SUMS recomputed: `bundle verify` cannot tell.
    static func editedPlan(_ run: RealRunFixture.Run, to path: String, _ edit: (String) -> String) throws {
        try rewrite(run.bundle, to: path, rechecksum: true) { files in
            files["plan.yaml"] = Array(edit(text(files["plan.yaml"])).utf8)
        }
    }

    @Test("a bundle with a shell step added: verify says what it proves; replay shows the step, refuses, runs nothing")
    func shellStepRefused() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("shell")
        defer { scratch.cleanup() }
        let marker = scratch.path + "/owned"
        let edited = scratch.path + "/edited.tar.gz"
        try Self.editedPlan(run, to: edited) { plan in
            plan.replacingOccurrences(of: "steps:\n", with: "steps:\n  - label: own\n    shell: touch \(marker)\n")
        }
        let verify = try Programs.snapctl(["bundle", "verify", edited])
        #expect(verify.status == 0, "checksums were recomputed: \(verify.stderr)")
        #expect(verify.stdout.contains("not who packed it"))

        let out = scratch.path + "/r"
        let refused = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.snapctl(["replay", edited, "--out", out], environment: run.environment)
        }
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("step 1 'own': shell command: touch \(marker)"), "disclosed: \(refused.stdout)")
        #expect(
            refused.stdout.contains("connection 'app': user 'app', database 'app', password from $SNAPCTL_TEST_SECRET")
        )
        #expect(refused.stderr.contains("plan.yaml:"))
        #expect(refused.stderr.contains("step 1 'own' runs the shell command 'touch \(marker)'"))
        #expect(refused.stderr.contains("step 4 'account'"), "the fixture's own shell step is named too")
        #expect(refused.stderr.contains("pass --allow-shell"))
        #expect(refused.stderr.contains("no server was started"))
        #expect(!FileManager.default.fileExists(atPath: marker), "the step did not run")
        #expect(!FileManager.default.fileExists(atPath: out), "no run directory")
        #expect(processesMentioning(scratch.path).isEmpty)
    }

    @Test("server options that open the network are refused by name; a sql_file outside the bundle too")
    func networkOptionsRefused() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("net")
        defer { scratch.cleanup() }
        let edited = scratch.path + "/edited.tar.gz"
        try Self.editedPlan(run, to: edited) { plan in
            plan.replacingOccurrences(
                of: "[--max-heap-table-size=64M]",
                with: "[--max-heap-table-size=64M, --skip-networking=0, --bind-address=0.0.0.0, --port=3306]"
            )
        }
        let refused = try Programs.snapctl(["replay", edited, "--out", scratch.path + "/r", "--allow-shell"])
        #expect(refused.status == 1)
        for name in ["networking", "bind-address", "port"] {
            #expect(refused.stderr.contains("pass --allow-server-option \(name)"), "\(refused.stderr)")
        }
        #expect(refused.stderr.contains("plan.yaml:5: server option '--skip-networking=0'"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/r"))

        let outside = scratch.path + "/outside.tar.gz"
        try Self.editedPlan(run, to: outside) {
            $0.replacingOccurrences(of: "sql_file: fill.sql", with: "sql_file: /etc/passwd")
        }
        let confined = try Programs.snapctl(["replay", outside, "--out", scratch.path + "/r2", "--allow-shell"])
        #expect(confined.status == 1)
        #expect(confined.stderr.contains("sql_file '/etc/passwd', outside the bundle"))
        #expect(!confined.stdout.contains("root:x:0:0"))
    }

    @Test(
        "packed with SHELL and a numeric CI variable set: verifies; with --allow-shell and the flags it replays, networking off"
    )
    func harmlessVariablesAndAllowedReplay() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("allow")
        defer { scratch.cleanup() }
        // A figure of the run, as a CI variable's value.
        let manifest = try RunManifest.decode(
            try #require(FileManager.default.contents(atPath: run.runDirectory + "/manifest.json")),
            path: "manifest.json"
        )
        let figure = String(try #require(manifest.snapshots.last?.heapBytes))
        var environment = run.environment
        environment["SHELL"] = "/bin/bash"
        environment["CI_PIPELINE_ID"] = figure
        let bundle = scratch.path + "/ci.tar.gz"
        let pack = try Programs.snapctl(["bundle", "pack", run.runDirectory, "-o", bundle], environment: environment)
        #expect(pack.status == 0, "\(pack.stderr)")
        #expect(
            pack.stdout.contains("redacted logs/step-0003-account.log:1: value of $SNAPCTL_TEST_SECRET"),
            "\(pack.stdout)"
        )
        #expect(!pack.stdout.contains("CI_PIPELINE_ID") && !pack.stdout.contains("$SHELL"))
        var info = stat()
        #expect(stat(bundle, &info) == 0 && info.st_mode & 0o777 == 0o600, "the bundle is private")
        let verify = try Programs.snapctl(["bundle", "verify", bundle])
        #expect(verify.status == 0, "\(verify.stderr)")
        let packed = try BundleArchive.read(gzip: try BundleSource.readFile(bundle))
        #expect(Self.text(packed.files["plan.yaml"]).contains("shell: >-"))
        #expect(!Self.text(packed.files["plan.yaml"]).contains("REDACTED_SHELL"))
        #expect(Self.text(packed.files["manifest.json"]).contains(figure))

        let marker = scratch.path + "/ran"
        let edited = scratch.path + "/edited.tar.gz"
        try Self.rewrite(bundle, to: edited, rechecksum: true) { files in
            files["plan.yaml"] = Array(
                Self.text(files["plan.yaml"])
                    .replacingOccurrences(of: "steps:\n", with: "steps:\n  - label: mark\n    shell: touch \(marker)\n")
                    .replacingOccurrences(
                        of: "[--max-heap-table-size=64M]",
                        with: "[--max-heap-table-size=64M, --port=3306]"
                    )
                    .utf8
            )
        }
        let out = scratch.path + "/replay"
        let replay = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.snapctl(
                ["replay", edited, "--out", out, "--allow-shell", "--allow-server-option", "port", "--quiet"],
                environment: run.environment
            )
        }
        #expect(replay.status == 0, "\(replay.stdout)\n\(replay.stderr)")
        #expect(FileManager.default.fileExists(atPath: marker), "with --allow-shell the step ran")
        let replayed = try RunManifest.decode(
            try #require(FileManager.default.contents(atPath: out + "/manifest.json")),
            path: out
        )
        let command = replayed.server?.valgrindCommand ?? []
        #expect(command.last == "--skip-networking", "\(command)")
        #expect(command.contains("--port=3306"))
        #expect(command.contains { $0.hasPrefix("--secure-file-priv=") })
        // Run directories are private: the folder 0700, its files 0600.
        #expect(stat(out, &info) == 0 && info.st_mode & 0o777 == 0o700)
        #expect(stat(out + "/manifest.json", &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(stat(out + "/" + (replayed.snapshots.first?.file ?? "x"), &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(processesMentioning(scratch.path).isEmpty)
    }

    @Test("verify of a bomb and with low limits: a clear limit error naming the flag, exit 1")
    func bombRefused() throws {
        let run = try BundleTrustSupport.bomb()
        defer { try? FileManager.default.removeItem(atPath: run) }
        let verify = try Programs.snapctl(["bundle", "verify", run])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("--max-entry-size"), "\(verify.stderr)")
        let small = try Programs.snapctl([
            "bundle", "verify", "--max-unpacked", "64KiB", "--max-entry-size", "1GiB", run,
        ])
        #expect(small.status == 1)
        #expect(small.stderr.contains("--max-unpacked"), "\(small.stderr)")
    }
}

enum BundleTrustSupport {
    /// A `.tar.gz` of a few kilobytes whose one file claims 600 MiB: refused at its header, before a
    /// byte of it is inflated. (HostileArchiveTests has one that really inflates.)
    static func bomb() throws -> String {
        let path = "/tmp/snapctl-bt-bomb-\(UUID().uuidString.prefix(6)).tar.gz"
        var tar: [UInt8] = TarWriter.archive([.directory("bomb")])
        tar.removeLast(1024)
        tar += HostileArchiveTests.header("bomb/zeros", size: HostileArchiveTests.octal(600 << 20))
        tar += [UInt8](repeating: 0, count: 1 << 20)
        try Data(Gzip.compress(tar, level: 9)).write(to: URL(fileURLWithPath: path))
        return path
    }
}
