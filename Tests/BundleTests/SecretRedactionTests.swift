import Foundation
import RunRecord
import Testing

@testable import Bundle

/// A run with secrets of every kind planted in its logs, SQL, plan and manifest, packed with secrets and
/// harmless look-alikes in the environment.
@Suite struct SecretRedactionTests {
    /// Each planted secret, and the kind `pack` reports for it.
    static let planted: [(secret: String, kind: String)] = [
        ("opt-pw-1a", "password"),  // --password= in a server option
        ("ident-pw-2b", "password"),  // IDENTIFIED BY
        ("url-pw-3c", "URL user info"),  // mysql://user:pass@host
        ("dbuser9", "URL user info"),
        ("db.prod.example.com", "host name"),
        ("replica-3.internal", "host name"),
        ("10.20.30.40", "IP address"),
        ("fe80::1ff:fe23:4567:890a", "IP address"),
        ("2001:db8::42", "IP address"),
        ("shortpw9", "password"),  // -p... on a mariadb command line
        ("master-pw-4d", "password"),  // MASTER_PASSWORD
        ("fn-pw-5e", "password"),  // PASSWORD('...')
        ("cmd-pw-6f", "password"),  // --password= in a shell command, in the manifest
        ("t0k", "value of $API_TOKEN"),  // short secret variable
        ("k9z", "value of $MY_SIGNING_KEY"),
        ("Zq7", "value of $APP_PW"),  // named by the plan's password_env
    ]

    static let environment = [
        "API_TOKEN": "t0k",
        "MY_SIGNING_KEY": "k9z",
        "APP_PW": "Zq7",
        "SHELL": "/bin/bash",
        // Also a figure of the run (a snapshot's heap bytes): it must stay.
        "CI_PIPELINE_ID": "9000000",
        "HOME": "/root",
        "PWD": "/home/alice",
        "LANG": "C.UTF-8",
    ]

    static func plantedFiles() -> [String: [UInt8]] {
        var files = BundleComposerTests.runFiles()
        let plan = BundleComposerTests.planText
            .replacingOccurrences(
                of: "[--max-heap-table-size=64M]",
                with: "[--max-heap-table-size=64M, --password=opt-pw-1a]"
            )
            .replacingOccurrences(of: "password_env: APP_DB_PASSWORD", with: "password_env: APP_PW")
        files["plan.yaml"] = Array(plan.utf8)
        var manifest = try! RunManifest.decode(Data(files["manifest.json"]!), path: "m")
        manifest.steps[2].command = "mariadb --password=cmd-pw-6f -e 'SELECT 1' && /bin/bash -c true"
        manifest.steps[0].sql = ["CREATE USER u IDENTIFIED BY 'ident-pw-2b'"]
        files["manifest.json"] = [UInt8](manifest.jsonData())
        files["logs/server.err"] = Array(
            """
            2026-01-02 start
            connecting to mysql://dbuser9:url-pw-3c@db.prod.example.com:3306/app
            client 10.20.30.40 and fe80::1ff:fe23:4567:890a and [2001:db8::42]:3306 via replica-3.internal
            mariadb -uroot -pshortpw9 -e "CHANGE MASTER TO MASTER_PASSWORD='master-pw-4d'"
            SET PASSWORD FOR u = PASSWORD('fn-pw-5e')
            token t0k, key k9z, app Zq7
            kept: /bin/bash 9000000 127.0.0.1 localhost std::vector<int> 12:34:56 mysql.user 10.11.6

            """.utf8
        )
        return files
    }

    static func compose() throws -> ComposedBundle {
        try BundleComposer.compose(
            PackRequest(
                top: "planted",
                files: plantedFiles(),
                archiveName: "planted.tar.gz",
                redactLiterals: false,
                toolVersion: "0.2.0",
                machine: MachineFacts(
                    hostNames: ["buildhost-7"],
                    environment: environment,
                    operatingSystem: BundleComposerTests.machine.operatingSystem,
                    cpu: BundleComposerTests.machine.cpu
                ),
                packedAt: "2026-01-02T03:04:20Z"
            )
        )
    }

    @Test("no planted secret is left in any file, and each is reported with its file, line and kind")
    func nothingLeft() throws {
        let bundle = try Self.compose()
        for (path, bytes) in bundle.files {
            let text = String(decoding: bytes, as: UTF8.self)
            for (secret, _) in Self.planted {
                #expect(!text.contains(secret), "\(secret) left in \(path)")
            }
        }
        let kinds = Set(bundle.findings.map(\.kind))
        for (_, kind) in Self.planted { #expect(kinds.contains(kind), "\(kind) reported") }
        #expect(
            bundle.findings.contains(SecretScrubber.Finding(path: "logs/server.err", line: 2, kind: "URL user info"))
        )
        #expect(bundle.findings.contains(SecretScrubber.Finding(path: "plan.yaml", line: 4, kind: "password")))
    }

    @Test("numbers, paths, shells and code stay; the bundle verifies and its manifest still reads")
    func harmlessStays() throws {
        let bundle = try Self.compose()
        let log = String(decoding: try #require(bundle.files["logs/server.err"]), as: UTF8.self)
        #expect(
            log.contains("kept: /bin/bash 9000000 127.0.0.1 localhost std::vector<int> 12:34:56 mysql.user 10.11.6")
        )
        #expect(BundleVerifier.verify(files: bundle.files).problems == [])
        let manifest = try RunManifest.decode(Data(try #require(bundle.files["manifest.json"])), path: "m")
        #expect(manifest.snapshots.map(\.heapBytes) == [1_000_000, 9_000_000, 9_000_000, 9_100_000])
        #expect(manifest.steps[2].command?.hasSuffix("&& /bin/bash -c true") == true)
        #expect(manifest.steps[0].sql == ["CREATE USER u IDENTIFIED BY 'REDACTED_PASSWORD'"])
        let variables = manifest.redaction?.environmentVariables ?? []
        #expect(variables == ["API_TOKEN", "APP_PW", "MY_SIGNING_KEY"])
        let original = Self.plantedFiles()
        for path in bundle.files.keys where path.hasSuffix(".massif") {
            #expect(bundle.files[path] == original[path], "\(path) unchanged")
        }
        // The plan still loads and still names its password variable; a quoted '$VARIABLE' is kept.
        let plan = String(decoding: try #require(bundle.files["plan.yaml"]), as: UTF8.self)
        #expect(plan.contains("password_env: APP_PW"))
        #expect(plan.contains("--password=REDACTED_PASSWORD"))
    }

    /// Packs `files` on a machine whose environment holds no secret: whatever is redacted came from the run.
    static func composeWithoutSecretsInTheEnvironment(_ files: [String: [UInt8]]) throws -> ComposedBundle {
        try BundleComposer.compose(
            PackRequest(
                top: "planted",
                files: files,
                archiveName: "planted.tar.gz",
                redactLiterals: false,
                toolVersion: "0.2.0",
                machine: MachineFacts(
                    hostNames: ["buildhost-7"],
                    environment: ["SHELL": "/bin/bash"],
                    operatingSystem: BundleComposerTests.machine.operatingSystem,
                    cpu: BundleComposerTests.machine.cpu
                ),
                packedAt: "2026-01-02T03:04:20Z"
            )
        )
    }

    @Test("a secret-named variable the plan gave a replica's primary is redacted like the server's")
    func planPrimaryEnvironment() throws {
        var files = BundleComposerTests.runFiles()
        let plan = BundleComposerTests.planText.replacingOccurrences(
            of: "  options: [--max-heap-table-size=64M]",
            with: "  options: [--max-heap-table-size=64M]\nprimary:\n  env: {PRIMARY_TOKEN: pt-93k}"
        )
        #expect(plan.contains("PRIMARY_TOKEN"))
        files["plan.yaml"] = Array(plan.utf8)
        files["logs/primary.err"] = Array("primary started with pt-93k\n".utf8)
        let bundle = try Self.composeWithoutSecretsInTheEnvironment(files)
        for (path, bytes) in bundle.files {
            #expect(!String(decoding: bytes, as: UTF8.self).contains("pt-93k"), "the secret left in \(path)")
        }
    }

    @Test("a secret-named variable the plan gave the server is redacted although the packer never had it")
    func planServerEnvironment() throws {
        var files = BundleComposerTests.runFiles()
        let plan = BundleComposerTests.planText.replacingOccurrences(
            of: "  options: [--max-heap-table-size=64M]",
            with: "  options: [--max-heap-table-size=64M]\n"
                + "  env: {S3_SECRET: sv-77q, LD_PRELOAD: /usr/lib/libjemalloc.so.2}"
        )
        files["plan.yaml"] = Array(plan.utf8)
        files["logs/server.err"] = Array("started with sv-77q and /usr/lib/libjemalloc.so.2\n".utf8)
        let bundle = try Self.composeWithoutSecretsInTheEnvironment(files)
        for (path, bytes) in bundle.files {
            #expect(!String(decoding: bytes, as: UTF8.self).contains("sv-77q"), "the secret left in \(path)")
        }
        let log = String(decoding: try #require(bundle.files["logs/server.err"]), as: UTF8.self)
        #expect(log == "started with REDACTED_S3_SECRET and /usr/lib/libjemalloc.so.2\n")
        #expect(bundle.findings.contains { $0.path == "plan.yaml" && $0.kind == "value of $S3_SECRET" })
        #expect(BundleVerifier.verify(files: bundle.files).problems == [])
    }

    @Test("a shell variable standing for a password is not a password")
    func variablesStay() {
        let scrubber = SecretScrubber(redactor: Redactor(rules: []))
        let text = #"mariadb -e "CREATE USER a IDENTIFIED BY '$APP_PW'" --password="$APP_PW" -p$APP_PW"#
        let (out, findings) = scrubber.scrub(Array(text.utf8), path: "plan.yaml")
        #expect(String(decoding: out, as: UTF8.self) == text)
        #expect(findings.isEmpty)
    }
}
