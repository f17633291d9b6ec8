import Foundation
import Plan
import RunRecord
import Testing

@testable import Bundle

/// What replay says before it runs a bundle's plan, and what it refuses without a flag.
@Suite struct ReplayConsentTests {
    static let planText = """
        version: 1
        name: hostile
        server:
          binary: /usr/sbin/mariadbd
          options: [--innodb-buffer-pool-size=64M, --sort_buffer_size=2M, --skip-networking=0, --bind-address=0.0.0.0, --port=3306, --init-file=/tmp/x.sql, --plugin-load=evil.so]
        massif:
          options: [--threshold=0.5, --massif-out-file=/root/.bashrc]
        connections:
          - {name: app, user: appuser, database: shop, password_env: APP_PW}
        steps:
          - label: grow
            sql: SELECT 1
          - label: own
            shell: touch /tmp/owned
          - label: load
            sql_file: load.sql

        """

    static func plan(_ text: String = planText) throws -> Plan {
        try Plan.load(yaml: text, fileName: "plan.yaml")
    }

    @Test("the disclosure names the server, its options, every connection and user, shell step and sql_file")
    func disclosure() throws {
        let lines = ReplayConsent.disclosure(plan: try Self.plan(), planText: Self.planText)
        let text = lines.joined(separator: "\n")
        #expect(text.contains("server: /usr/sbin/mariadbd"))
        #expect(text.contains("--bind-address=0.0.0.0"))
        #expect(text.contains("connection 'app': user 'appuser', database 'shop', password from $APP_PW"))
        #expect(text.contains("step 2 'own': shell command: touch /tmp/owned"))
        #expect(text.contains("step 3 'load': sql_file 'load.sql'"))
        #expect(text.contains("--massif-out-file=/root/.bashrc"))
    }

    @Test("without flags: the shell step, network, plugin, init-file and valgrind output options are refused")
    func refusals() throws {
        let refusals = ReplayConsent.refusals(
            plan: try Self.plan(),
            planText: Self.planText,
            permissions: ReplayPermissions()
        )
        let flags = refusals.map(\.flag)
        #expect(
            flags == [
                "--allow-server-option networking", "--allow-server-option bind-address", "--allow-server-option port",
                "--allow-server-option init-file", "--allow-server-option plugin-load",
                "--allow-valgrind-option massif-out-file", "--allow-shell",
            ]
        )
        let shell = try #require(refusals.last)
        #expect(shell.place == "plan.yaml:14")
        #expect(shell.description.contains("step 2 'own' runs the shell command 'touch /tmp/owned'"))
        #expect(refusals.first?.place == "plan.yaml:5")
        let error = BundleError.consentNeeded(file: "b.tar.gz", refusals: refusals)
        #expect(error.description.hasPrefix("b.tar.gz: not replaying; no server was started."))
    }

    @Test("each flag allows exactly what it names")
    func permissions() throws {
        let all = ReplayPermissions(
            allowShell: true,
            serverOptions: ["networking", "--bind-address", "port", "init_file", "plugin-load"],
            massifOptions: ["massif-out-file"]
        )
        #expect(ReplayConsent.refusals(plan: try Self.plan(), planText: Self.planText, permissions: all).isEmpty)
        let shellOnly = ReplayConsent.refusals(
            plan: try Self.plan(),
            planText: Self.planText,
            permissions: ReplayPermissions(allowShell: true)
        )
        #expect(shellOnly.count == 6)
        #expect(!shellOnly.contains { $0.flag == "--allow-shell" })
    }

    @Test("memory-relevant options pass; option names are compared without dashes, underscores or loose-")
    func acceptedOptions() {
        for option in [
            "--innodb-buffer-pool-size=1G", "--innodb_log_file_size=48M", "--loose-sort-buffer-size=2M",
            "--default-storage-engine=Aria", "--character-set-server=utf8mb4", "--max-heap-table-size=64M",
            "--aria-pagecache-buffer-size=8M", "--some-future-cache-size=64K", "--table_open_cache=400",
        ] {
            #expect(ReplayConsent.acceptsServerOption(option), "\(option)")
        }
        for option in [
            "--port=3306", "--bind-address=::", "--skip-networking=0", "--init-file=/tmp/x", "--log-bin=/tmp/b",
            "--secure-file-priv=", "--user=mysql", "--plugin-load-add=x.so", "-P3306", "--datadir=/var/lib/mysql",
            "--general-log-file=/etc/cron.d/x", "--some-future-cache-size=/etc/passwd",
        ] {
            #expect(!ReplayConsent.acceptsServerOption(option), "\(option)")
        }
    }

    @Test("a bundle naming a server binary that is not mariadbd or mysqld is refused; --server-binary replaces it")
    func binary() throws {
        let text = Self.planText.replacingOccurrences(of: "/usr/sbin/mariadbd", with: "/bin/sh")
        let refusals = ReplayConsent.refusals(
            plan: try Self.plan(text),
            planText: text,
            permissions: ReplayPermissions(
                allowShell: true,
                serverOptions: ["networking", "bind-address", "port", "init-file", "plugin-load"],
                massifOptions: ["massif-out-file"]
            )
        )
        #expect(refusals.map(\.flag) == ["--server-binary PATH (the server to run instead)"])
        #expect(
            ReplayConsent.refusals(
                plan: try Self.plan(text),
                planText: text,
                permissions: ReplayPermissions(
                    allowShell: true,
                    serverOptions: ["networking", "bind-address", "port", "init-file", "plugin-load"],
                    massifOptions: ["massif-out-file"],
                    serverBinary: "/usr/sbin/mariadbd"
                )
            ).isEmpty
        )
    }

    @Test("a replayed sql_file resolves only inside the bundle: absolute paths and .. are refused")
    func sqlFileOutside() throws {
        let manifest = RunManifest(
            tool: .init(version: "0.1.0"),
            plan: .init(name: "p", source: "p.yaml"),
            startedAt: "2026-01-01T00:00:00Z"
        )
        for path in ["/etc/passwd", "../../etc/shadow", "sql/../../x.sql"] {
            let text = "version: 1\nname: p\nsteps:\n  - label: load\n    sql_file: \(path)\n"
            #expect(throws: BundleError.sqlFileOutsideBundle(path: path, step: "load")) {
                try BundlePlan.load(yaml: text, manifest: manifest, file: "b.tar.gz")
            }
        }
        #expect(
            BundleError.sqlFileOutsideBundle(path: "/etc/passwd", step: "load").description.contains(
                "resolves only inside the bundle"
            )
        )
    }
}
