import Foundation
import Plan
import RunRecord
import Testing

@testable import Bundle

/// A replica's bundle: replay shows the primary and lets it listen on the loopback address, nothing else.
@Suite struct ReplayPrimaryConsentTests {
    static let planText = """
        version: 1
        name: replica
        primary:
          binary: /usr/sbin/mariadbd
          options: [--binlog-format=ROW, --port=3306, --bind-address=0.0.0.0, --init-file=/tmp/x.sql]
          init_sql: [CREATE DATABASE app]
        server:
          options: ["--replicate-wild-do-table=app.%", --skip-networking=0]
        steps:
          - {label: write, on: primary, sql: CREATE TABLE app.t (id INT)}

        """

    static func plan() throws -> Plan { try Plan.load(yaml: planText, fileName: "plan.yaml") }

    @Test("the disclosure names the primary, its options and init_sql, its loopback port, and the steps on it")
    func disclosure() throws {
        let text = ReplayConsent.disclosure(plan: try Self.plan(), planText: Self.planText).joined(separator: "\n")
        #expect(text.contains("primary (a second server, not profiled): /usr/sbin/mariadbd (auto)"))
        #expect(text.contains("primary options from the bundle: --binlog-format=ROW --port=3306"))
        #expect(text.contains("primary init_sql: CREATE DATABASE app"))
        #expect(text.contains("the primary listens on 127.0.0.1 only, at a free port snapctl picks"))
        #expect(text.contains("only the replication user can log in there, root is on the socket only"))
        #expect(text.contains("step 1 'write': SQL on the primary, then the replica catches up"))
    }

    @Test("the primary's networking, ports and files are refused like the replica's; filters and the row format pass")
    func refusals() throws {
        let refusals = ReplayConsent.refusals(
            plan: try Self.plan(),
            planText: Self.planText,
            permissions: ReplayPermissions()
        )
        #expect(
            refusals.map(\.description) == [
                "plan.yaml:8: server option '--skip-networking=0' is not one replay accepts (memory-relevant "
                    + "options only; see docs/bundle.md): it could open the network, load code or read and write "
                    + "files; to allow it, pass --allow-server-option networking",
                "plan.yaml:5: primary option '--port=3306' is not one replay accepts (memory-relevant options only; "
                    + "see docs/bundle.md): it could open the network, load code or read and write files; to allow "
                    + "it, pass --allow-server-option port",
                "plan.yaml:5: primary option '--bind-address=0.0.0.0' is not one replay accepts (memory-relevant "
                    + "options only; see docs/bundle.md): it could open the network, load code or read and write "
                    + "files; to allow it, pass --allow-server-option bind-address",
                "plan.yaml:5: primary option '--init-file=/tmp/x.sql' is not one replay accepts (memory-relevant "
                    + "options only; see docs/bundle.md): it could open the network, load code or read and write "
                    + "files; to allow it, pass --allow-server-option init-file",
            ]
        )
        #expect(ReplayConsent.acceptsServerOption("--binlog-format=ROW"))
        #expect(ReplayConsent.acceptsServerOption("--replicate-wild-do-table=app.%"))
        #expect(!ReplayConsent.acceptsServerOption("--master-host=10.0.0.1"))
    }

    @Test("a primary binary that is not a server is refused")
    func primaryBinary() throws {
        let text = "version: 1\nprimary: {binary: /tmp/evil}\nsteps: [{label: w, on: primary, sql: SELECT 1}]\n"
        let refusals = ReplayConsent.refusals(
            plan: try Plan.load(yaml: text, fileName: "plan.yaml"),
            planText: text,
            permissions: ReplayPermissions()
        )
        #expect(refusals.map(\.flag) == ["--server-binary PATH (the server to run instead)"])
        #expect(refusals.first?.what.contains("the primary binary '/tmp/evil'") == true)
    }
}
