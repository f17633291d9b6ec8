import Crypto
import Foundation
import RunRecord
import TestSupport
import Testing

@testable import Bundle

#if canImport(Glibc)
import Glibc
#endif

/// Pack, verify and replay on a real run, through the snapctl binary (integration: real valgrind, vgdb
/// and mariadbd).
@Suite("bundles of a real run: pack, verify, replay (integration)", .serialized)
struct BundleIntegrationTests {
    static func fixture() async throws -> RealRunFixture.Run {
        try await RealRunFixture.shared.run()
    }

    /// The bundle's files, changed by `edit`, written as a new `.tar.gz`; SHA256SUMS recomputed when
    /// `rechecksum` (an edit a verifier cannot see), kept otherwise (tampering).
    static func rewrite(
        _ bundle: String,
        to path: String,
        rechecksum: Bool,
        _ edit: (inout [String: [UInt8]]) throws -> Void
    ) throws {
        let archive = try BundleArchive.read(gzip: try BundleSource.readFile(bundle))
        var files = archive.files
        try edit(&files)
        if rechecksum {
            files["SHA256SUMS"] = nil
            files["SHA256SUMS"] = Array(
                Checksums.text(files.map { (path: $0.key, digest: SHA256.hex($0.value)) }).utf8
            )
        }
        try Data(BundleArchive.make(top: archive.top, files: files, time: 1_700_000_000))
            .write(to: URL(fileURLWithPath: path))
    }

    static func text(_ bytes: [UInt8]?) -> String { String(decoding: bytes ?? [], as: UTF8.self) }

    @Test("pack: one folder with the run, README.txt, env.json and SHA256SUMS that sha256sum and tar accept")
    func packed() async throws {
        let run = try await Self.fixture()
        let lines = run.pack.stdout.split(separator: "\n").map(String.init)
        #expect(lines.last == run.bundle)
        #expect(run.pack.stdout.contains("redacted: "))
        #expect(run.pack.stdout.contains("SNAPCTL_TEST_SECRET"))

        let listing = try Programs.run("/bin/tar", ["-tzf", run.bundle])
        #expect(listing.status == 0)
        let tops = Set(
            listing.stdout.split(separator: "\n").map { $0.split(separator: "/").first.map(String.init) ?? "" }
        )
        #expect(tops == ["run"])

        let archive = try BundleArchive.read(gzip: try BundleSource.readFile(run.bundle))
        for name in [
            "README.txt", "env.json", "SHA256SUMS", "manifest.json", "plan.yaml", "report.txt", "timeline.massif",
        ] {
            #expect(archive.files[name] != nil, "\(name)")
        }
        let runFiles = try BundleSource.readDirectory(run.runDirectory).files.keys.filter { !$0.hasPrefix("server/") }
        #expect(Set(runFiles).isSubset(of: Set(archive.files.keys)), "every file of the run is in the bundle")

        let scratch = try Scratch("unpacked")
        defer { scratch.cleanup() }
        let root = try BundleExtractor.extract(archive, into: scratch.path)
        let sums = try Programs.run("/bin/sh", ["-c", "cd \(root) && sha256sum -c --quiet SHA256SUMS"])
        #expect(sums.status == 0, "\(sums.stdout)\(sums.stderr)")

        let readme = Self.text(archive.files["README.txt"])
        #expect(readme.contains("    snapctl replay fixture.tar.gz\n"))
        #expect(readme.contains("'fill'"))
        #expect(readme.contains("MariaDB"))
        let environment = try #require(BundleVerifier.verify(files: archive.files).environment)
        #expect(environment.environment.keys.allSatisfy(EnvironmentAllowList.allows))
        #expect(environment.environment["SNAPCTL_TEST_SECRET"] == nil)
        #expect(environment.redactedVariables.contains("SNAPCTL_TEST_SECRET"))
        #expect(environment.valgrind?.version.isEmpty == false)
        #expect(environment.server?.flavor == "mariadb")
    }

    @Test("a secret given through the environment appears in no byte of the bundle")
    func noSecret() async throws {
        let run = try await Self.fixture()
        let secret = Array(run.secret.utf8)
        // The run itself holds it (the shell step printed it): the test would see a leak.
        let original = try BundleSource.readDirectory(run.runDirectory).files
        let inRun = original.values.contains { $0.contains(bytes: secret) }
        #expect(inRun, "the run directory holds the secret")

        let compressed = try BundleSource.readFile(run.bundle)
        let inCompressed = compressed.contains(bytes: secret)
        #expect(!inCompressed, "the secret in the .tar.gz bytes")
        let tar = try Gzip.decompress(compressed)
        let inTar = tar.contains(bytes: secret)
        #expect(!inTar, "the secret in the decompressed tar stream")
        let archive = try BundleArchive.read(gzip: compressed)
        for (path, bytes) in archive.files {
            let leaked = bytes.contains(bytes: secret)
            #expect(!leaked, "the secret in \(path)")
        }
        let log = Self.text(archive.files["logs/step-0003-account.log"])
        #expect(log.contains("token=REDACTED_SNAPCTL_TEST_SECRET on "), "\(log)")

        // The host name, where it is one worth hiding, is gone as a word from every file.
        let hosts = MachineFacts.current().hostNames.filter {
            $0.count >= 2 && !Redactor.genericHostNames.contains($0.lowercased())
        }
        let finder = Redactor.forMachine(hostNames: hosts, environment: [:])
        #expect(log.contains("on REDACTED_HOST") || hosts.isEmpty)
        for (path, bytes) in archive.files {
            #expect(finder.matches(in: bytes).isEmpty, "a host name in \(path)")
        }
    }

    @Test("verify: ok for the file and for its unpacked folder, with the count")
    func verifyGood() async throws {
        let run = try await Self.fixture()
        let result = try Programs.snapctl(["bundle", "verify", run.bundle])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok: \(run.bundle): "))
        #expect(result.stdout.contains("files match SHA256SUMS (plan 'bundle-fixture', snapctl.run/1)"))

        let scratch = try Scratch("folder")
        defer { scratch.cleanup() }
        let root = try BundleExtractor.extract(
            try BundleArchive.read(gzip: try BundleSource.readFile(run.bundle)),
            into: scratch.path
        )
        #expect(try Programs.snapctl(["bundle", "verify", root]).status == 0)
        // A run directory is not a bundle: it lacks README.txt and env.json, and says what to do.
        let plain = try Programs.snapctl(["bundle", "verify", run.runDirectory])
        #expect(plain.status == 1)
        #expect(plain.stderr.contains("README.txt: missing; every bundle has one (is this a run directory? pack it"))
        #expect(plain.stderr.contains("env.json: missing; every bundle has one"))
        // A file changed in the folder is named.
        try Data("changed\n".utf8).write(to: URL(fileURLWithPath: root + "/report.txt"))
        let changed = try Programs.snapctl(["bundle", "verify", root])
        #expect(changed.status == 1)
        #expect(changed.stderr.contains("\(root): report.txt: checksum mismatch"))
    }

    @Test("verify: a tampered, a missing and an extra file are each named; exit 1")
    func verifyDamaged() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("damaged")
        defer { scratch.cleanup() }
        let snapshot = try #require(
            try BundleArchive.read(gzip: try BundleSource.readFile(run.bundle)).files.keys
                .filter { $0.hasPrefix("snapshots/") }.min()
        )
        let bad = scratch.path + "/bad.tar.gz"
        try Self.rewrite(run.bundle, to: bad, rechecksum: false) { files in
            files[snapshot]?[10] ^= 1
            files["logs/server.err"] = nil
            files["logs/extra.txt"] = Array("planted\n".utf8)
        }
        let result = try Programs.snapctl(["bundle", "verify", bad])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(bad): \(snapshot): checksum mismatch"))
        #expect(result.stderr.contains("\(bad): logs/server.err: missing (listed in SHA256SUMS)"))
        #expect(result.stderr.contains("\(bad): logs/extra.txt: extra file, not listed in SHA256SUMS"))
        #expect(result.stderr.contains("\(bad): 3 problems; do not trust this bundle"))
    }

    @Test("verify: a truncated archive is a clear error naming the file and the offset")
    func verifyTruncated() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("truncated")
        defer { scratch.cleanup() }
        let bytes = try BundleSource.readFile(run.bundle)
        let cut = try scratch.write("cut.tar.gz", bytes: Array(bytes.prefix(bytes.count / 2)))
        let result = try Programs.snapctl(["bundle", "verify", cut])
        #expect(result.status == 1)
        #expect(result.stderr.contains("snapctl: \(cut): truncated: the gzip stream ends at byte "))
        #expect(result.stderr.contains("copy or download it again"))
        // Not gzip at all.
        let text = try scratch.write("plain.tar.gz", "just text")
        let plain = try Programs.snapctl(["bundle", "verify", text])
        #expect(plain.status == 1)
        #expect(plain.stderr.contains("not a gzip file (it starts with 6a 75 73 74"))
    }

    @Test("verify and replay: a bundle with a newer schema says to upgrade")
    func newerSchema() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("newer")
        defer { scratch.cleanup() }
        let newer = scratch.path + "/newer.tar.gz"
        try Self.rewrite(run.bundle, to: newer, rechecksum: true) { files in
            let text = Self.text(files["manifest.json"])
            files["manifest.json"] = Array(
                text.replacingOccurrences(of: "\"schema\" : \"snapctl.run/1\"", with: "\"schema\" : \"snapctl.run/2\"")
                    .utf8
            )
        }
        let message =
            "this bundle was written by a newer snapctl (schema snapctl.run/2; this snapctl reads snapctl.run/1): upgrade snapctl"
        let verify = try Programs.snapctl(["bundle", "verify", newer])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains(message))
        let replay = try Programs.snapctl(["replay", newer, "--out", scratch.path + "/r"])
        #expect(replay.status == 1)
        #expect(replay.stderr.contains(message))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/r"), "nothing started")
    }

    @Test("replay: the recorded growth reproduces; exit 0, the table and the new run directory")
    func replayReproduces() async throws {
        let run = try await Self.fixture()
        let out = run.scratch + "/replay-ok"
        let result = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.snapctl(["replay", run.bundle, "--out", out, "--allow-shell"], environment: run.environment)
        }
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("bundle \(run.bundle): ") == true)
        #expect(lines.contains { $0.hasPrefix("*") && $0.contains("fill") && $0.hasSuffix("reproduced") })
        #expect(lines.contains { $0.hasPrefix("reproduced: step 'fill' grew +") })
        #expect(lines.last == out)
        #expect(!result.stderr.contains("warning"), "same machine, same versions: \(result.stderr)")
        let manifest = try RunManifest.decode(
            try #require(FileManager.default.contents(atPath: out + "/manifest.json")),
            path: out
        )
        #expect(manifest.outcome.status == .completed)
        #expect(manifest.plan.source == run.bundle + ":plan.yaml")
        #expect(manifest.steps.first { $0.label == "fill" }?.sql == [Self.fillStatement])
        #expect(processesMentioning(run.scratch).isEmpty)
    }

    static let fillStatement = "INSERT INTO m SELECT seq, REPEAT('x', 200) FROM seq_1_to_20000"

    @Test("replay: a recorded growth the replay does not reach exits 3 (an unpacked folder as input)")
    func replayDoesNotReproduce() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("nr")
        defer { scratch.cleanup() }
        let edited = scratch.path + "/edited.tar.gz"
        // The recording says 'fill' grew by 40 MiB more than it does.
        try Self.rewrite(run.bundle, to: edited, rechecksum: true) { files in
            var manifest = try RunManifest.decode(Data(files["manifest.json"] ?? []), path: "manifest.json")
            let index = try #require(manifest.snapshots.firstIndex { $0.step == "fill" && $0.phase == .after })
            manifest.snapshots[index].heapBytes += 40 << 20
            // Recorded elsewhere, with other versions: the replay warns.
            manifest.server?.version = "10.0.1-MariaDB-old"
            manifest.server?.valgrindVersion = "3.10.0"
            files["manifest.json"] = [UInt8](manifest.jsonData())
        }
        let root = try BundleExtractor.extract(
            try BundleArchive.read(gzip: try BundleSource.readFile(edited)),
            into: scratch.path
        )
        let out = scratch.path + "/replay"
        let result = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.snapctl(
                ["replay", root, "--out", out, "--quiet", "--allow-shell"],
                environment: run.environment
            )
        }
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("not reproduced: step 'fill' grew +"))
        #expect(result.stdout.contains("recorded, a difference of -40."))
        #expect(!result.stdout.contains("[1] create"), "--quiet prints no step lines")
        #expect(
            result.stderr.contains(
                "warning: the server differs: recorded with mariadb 10.0.1-MariaDB-old, replayed with mariadb "
            )
        )
        #expect(result.stderr.contains("warning: valgrind differs: recorded with 3.10.0, replayed with "))
        #expect(processesMentioning(scratch.path).isEmpty)
    }

    @Test("replay: the server binary missing exits 2, names the binary and says what to do")
    func replayServerMissing() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("nobin")
        defer { scratch.cleanup() }
        let edited = scratch.path + "/nobin.tar.gz"
        try Self.rewrite(run.bundle, to: edited, rechecksum: true) { files in
            let plan = Self.text(files["plan.yaml"])
            files["plan.yaml"] = Array(
                plan.replacingOccurrences(of: "server:\n", with: "server:\n  binary: mariadbd-snapctl-missing\n").utf8
            )
        }
        let result = try Programs.snapctl(
            ["replay", edited, "--out", scratch.path + "/r", "--allow-shell"],
            environment: run.environment
        )
        #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("server binary 'mariadbd-snapctl-missing' not found"))
        #expect(result.stderr.contains("install mariadb-server"))
        #expect(result.stderr.contains("replay needs valgrind and the server binary the bundle ran"))
        #expect(result.stdout.split(separator: "\n").last.map(String.init) == scratch.path + "/r")
    }

    @Test("replay: a bundle whose plan sets server.env (LD_PRELOAD) is refused without --allow-env, exit 1")
    func replayRefusesServerEnvironment() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("env")
        defer { scratch.cleanup() }
        let edited = scratch.path + "/env.tar.gz"
        try Self.rewrite(run.bundle, to: edited, rechecksum: true) { files in
            let plan = Self.text(files["plan.yaml"])
            files["plan.yaml"] = Array(
                plan.replacingOccurrences(of: "server:\n", with: "server:\n  env: {LD_PRELOAD: /tmp/evil.so}\n").utf8
            )
        }
        let result = try Programs.snapctl(
            ["replay", edited, "--out", scratch.path + "/r"],
            environment: run.environment
        )
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("its plan sets server.env (LD_PRELOAD)"), "\(result.stderr)")
        #expect(result.stderr.contains("--allow-env"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/r/manifest.json"), "nothing may run")
        // Accepted (with the fixture's shell step allowed too), the preload is checked like any other: this one does not exist, so the server never starts.
        let allowed = try Programs.snapctl(
            ["replay", edited, "--allow-env", "--allow-shell", "--out", scratch.path + "/r2"],
            environment: run.environment
        )
        #expect(
            allowed.stderr.contains("LD_PRELOAD in server.env names /tmp/evil.so, which does not exist"),
            "\(allowed.stderr)"
        )
        #expect(processesMentioning(scratch.path).isEmpty)
    }

    @Test("--redact-literals: literals gone, verify says not replayable, replay refuses with exit 1")
    func redactedLiterals() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("literals")
        defer { scratch.cleanup() }
        let redacted = scratch.path + "/redacted.tar.gz"
        let pack = try Programs.snapctl(
            ["bundle", "pack", run.runDirectory, "-o", redacted, "--redact-literals"],
            environment: run.environment
        )
        #expect(pack.status == 0, "\(pack.stderr)")
        #expect(pack.stdout.contains("SQL literals (not replayable)"))
        let archive = try BundleArchive.read(gzip: try BundleSource.readFile(redacted))
        for (path, bytes) in archive.files where !path.hasPrefix("snapshots/") && !path.hasSuffix(".massif") {
            let text = Self.text(bytes)
            #expect(!text.contains("needle-literal"), "\(path)")
            #expect(!text.contains("REPEAT('x', 200)"), "\(path)")
        }
        #expect(Self.text(archive.files["plan.yaml"]).contains("WHERE v = ?"))
        let verify = try Programs.snapctl(["bundle", "verify", redacted])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("not replayable: literals redacted"))
        let replay = try Programs.snapctl(["replay", redacted, "--out", scratch.path + "/r"])
        #expect(replay.status == 1)
        #expect(replay.stderr.contains("was packed with --redact-literals"))
        #expect(replay.stderr.contains("cannot be replayed"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/r"))
    }

    @Test("replay refuses an archive with a path-traversal entry before writing anything")
    func replayUnsafe() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("traversal")
        defer { scratch.cleanup() }
        let archive = try BundleArchive.read(gzip: try BundleSource.readFile(run.bundle))
        var entries = archive.members.map(\.entry)
        entries.insert(.file("run/../escaped.txt", Array("gotcha".utf8)), at: 3)
        let crafted = try scratch.write("crafted.tar.gz", bytes: Gzip.compress(TarWriter.archive(entries)))
        let result = try Programs.snapctl(["replay", crafted, "--out", scratch.path + "/r"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("refusing entry 'run/../escaped.txt'"))
        #expect(result.stderr.contains("contains '..'"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/escaped.txt"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escaped.txt"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/r"))

        let tampered = scratch.path + "/tampered.tar.gz"
        try Self.rewrite(run.bundle, to: tampered, rechecksum: false) { files in files["plan.yaml"]?.append(10) }
        let refused = try Programs.snapctl(["replay", tampered, "--out", scratch.path + "/r"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("plan.yaml: checksum mismatch"))
    }

    @Test("replay into a directory that holds a run already refuses, with exit 1 and the session's advice")
    func replayIntoARun() async throws {
        let run = try await Self.fixture()
        let result = try Programs.snapctl(["replay", run.bundle, "--out", run.runDirectory, "--allow-shell"])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "\(run.runDirectory) already holds a run (it has a manifest.json); choose another --out"
            )
        )
        #expect(!result.stderr.contains("cannot write"))
    }

    @Test("export mtr: the exported plan passes under the real mariadb-test; a wrong expected error fails it")
    func exportMtr() async throws {
        let run = try await Self.fixture()
        let scratch = try Scratch("mtr")
        defer { scratch.cleanup() }
        // The plan as it is in the bundle, with its sql_file beside it as the session had it.
        let planFile = run.scratch + "/plan.yaml"
        let exported = try Programs.snapctl(["export", "mtr", planFile, "-o", scratch.path + "/bug.test"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let test = try String(contentsOfFile: scratch.path + "/bug.test", encoding: .utf8)
        #expect(test.contains(Self.fillStatement + ";"))
        #expect(test.contains("connect (app,localhost,app,$SNAPCTL_TEST_SECRET,app);"))
        #expect(test.contains("--error 1146\nSELECT * FROM missing;"))
        #expect(!test.contains(run.secret))
        try test.replacingOccurrences(of: "--error 1146", with: "--error 1064")
            .write(toFile: scratch.path + "/wrong.test", atomically: true, encoding: .utf8)

        let server = try PlainServer.start(in: scratch.path)
        defer { server.stop() }
        var withSocket = run.environment
        withSocket["SNAPCTL_SOCKET"] = server.socket
        let environment = withSocket
        let arguments = ["--user=root", "--socket=\(server.socket)", "--tmpdir=\(scratch.path)"]
        let passed = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.run(
                "/usr/bin/mariadb-test",
                arguments + ["--test-file=\(scratch.path)/bug.test"],
                environment: environment,
                directory: scratch.path
            )
        }
        #expect(passed.status == 0, "\(passed.stdout)\n\(passed.stderr)")
        #expect(passed.stdout.hasSuffix("ok\n"))
        #expect(passed.stdout.contains("# [5] missing (sql)"))
        // The same server, the database dropped: the test with the wrong error number fails where it should.
        #expect(
            try Programs.run(
                "/usr/bin/mariadb",
                ["--socket=\(server.socket)", "-uroot", "-e", "DROP DATABASE app; DROP USER app@localhost"]
            ).status == 0
        )
        let failed = try await OffPool.run { () throws(any Error) -> ProgramOutput in
            try Programs.run(
                "/usr/bin/mariadb-test",
                arguments + ["--test-file=\(scratch.path)/wrong.test"],
                environment: environment,
                directory: scratch.path
            )
        }
        #expect(failed.status != 0)
        #expect((failed.stdout + failed.stderr).contains("failed with wrong errno"))
    }
}

/// A plain mariadbd (no valgrind) on a private datadir and socket, for running exported test files.
struct PlainServer {
    let directory: String
    let socket: String
    let pid: Int32

    static func start(in scratch: String) throws -> PlainServer {
        let directory = scratch + "/server"
        try FileManager.default.createDirectory(atPath: directory + "/tmp", withIntermediateDirectories: true)
        let install = try Programs.run(
            "/usr/bin/mariadb-install-db",
            [
                "--no-defaults", "--datadir=\(directory)/data", "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db", "--skip-name-resolve", "--tmpdir=\(directory)/tmp",
            ]
        )
        guard install.status == 0 else {
            throw RealRunFixture.FixtureError("mariadb-install-db failed:\n\(install.stdout)\n\(install.stderr)")
        }
        let socket = directory + "/sock"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/mariadbd")
        process.arguments = [
            "--no-defaults", "--datadir=\(directory)/data", "--socket=\(socket)", "--skip-networking", "--user=root",
            "--pid-file=\(directory)/pid", "--log-error=\(directory)/err", "--innodb-buffer-pool-size=32M",
            "--tmpdir=\(directory)/tmp",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = PlainServer(directory: directory, socket: socket, pid: process.processIdentifier)
        for _ in 0..<300 {
            if try Programs.run("/usr/bin/mariadb-admin", ["--socket=\(socket)", "-uroot", "ping"]).status == 0 {
                return server
            }
            guard process.isRunning else { break }
            usleep(100_000)
        }
        server.stop()
        let log = (try? String(contentsOfFile: directory + "/err", encoding: .utf8)) ?? ""
        throw RealRunFixture.FixtureError("mariadbd did not start:\n\(log.suffix(2000))")
    }

    /// SIGTERM (a clean shutdown), then SIGKILL if it has not ended in 30 seconds.
    func stop() {
        kill(pid, SIGTERM)
        for _ in 0..<300 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid || (kill(pid, 0) == -1 && errno == ESRCH) { return }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
    }
}
