import Foundation
import TestSupport
import Testing

@testable import Bundle

#if canImport(Glibc)
import Glibc
#endif

/// One real run (valgrind, vgdb and mariadbd) shared by the integration tests: made once per test
/// process through the snapctl binary, with a secret in its environment that a shell step prints and
/// a connection uses as its password, then packed by the binary with the same environment.
actor RealRunFixture {
    static let shared = RealRunFixture()

    struct Run: Sendable {
        var scratch: String
        var runDirectory: String
        var bundle: String
        var secret: String
        /// The environment the session and the pack ran with (the secret in it).
        var environment: [String: String]
        var session: ProgramOutput
        var pack: ProgramOutput
    }

    static let plan = """
        version: 1
        name: bundle-fixture
        description: A MEMORY table filled from a sql_file, then read through a password-protected connection
        server:
          options: [--max-heap-table-size=64M]
          init_sql: [CREATE DATABASE app]
        massif:
          options: [--threshold=0.5]
        observe: []
        connections:
          - {name: main, database: app}
          - {name: app, user: app, database: app, password_env: SNAPCTL_TEST_SECRET}
        steps:
          - label: create
            sql: CREATE TABLE m (id INT PRIMARY KEY, v CHAR(200)) ENGINE=MEMORY
          - label: fill
            sql_file: fill.sql
          - label: account
            shell: >-
              mariadb --socket="$SNAPCTL_SOCKET" -uroot -e "CREATE USER app@localhost IDENTIFIED BY '$SNAPCTL_TEST_SECRET';
              GRANT ALL ON app.* TO app@localhost" && echo "token=$SNAPCTL_TEST_SECRET on $(hostname)" &&
              echo "$SNAPCTL_TEST_SECRET" >&2
          - label: count
            connection: app
            sql: SELECT COUNT(*) FROM m WHERE v = 'needle-literal'
          - label: missing
            sql: SELECT * FROM missing
            expect: {error: 1146}

        """

    static let fill = "INSERT INTO m SELECT seq, REPEAT('x', 200) FROM seq_1_to_20000;\n"

    private var made: Task<Run, any Error>?

    func run() async throws -> Run {
        // The binary runs for seconds: wait for it on a thread of its own, not on the cooperative pool.
        if made == nil { made = Task { try await OffPool.run { () throws(any Error) -> Run in try Self.make() } } }
        guard let made else { throw FixtureError("no fixture") }
        return try await made.value
    }

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func make() throws -> Run {
        let scratch = try Scratch.forProcess("fixture")
        let secret = "sk-" + UUID().uuidString.replacingOccurrences(of: "-", with: "") + "-never-ship"
        var environment = ProcessInfo.processInfo.environment
        environment["SNAPCTL_TEST_SECRET"] = secret
        let planFile = try scratch.write("plan.yaml", plan)
        try scratch.write("fill.sql", fill)
        let runDirectory = scratch.path + "/run"
        let session = try Programs.snapctl(["session", planFile, "--out", runDirectory], environment: environment)
        guard session.status == 0 else {
            throw FixtureError(
                "snapctl session exited \(session.status):\n\(session.stdout)\n\(session.stderr)"
            )
        }
        let bundle = scratch.path + "/fixture.tar.gz"
        let pack = try Programs.snapctl(["bundle", "pack", runDirectory, "-o", bundle], environment: environment)
        guard pack.status == 0 else {
            throw FixtureError("snapctl bundle pack exited \(pack.status):\n\(pack.stdout)\n\(pack.stderr)")
        }
        return Run(
            scratch: scratch.path,
            runDirectory: runDirectory,
            bundle: bundle,
            secret: secret,
            environment: environment,
            session: session,
            pack: pack
        )
    }
}
