import Testing

@testable import Plan

/// `primary:` beside `server:`, `attach: {primary:}`, and a step's `on:` and `catch_up_timeout:`.
@Suite struct PlanPrimaryTests {
    @Test func primaryBesideServerTakesTheServerKeys() throws {
        let plan = try Plan.load(
            yaml: """
                version: 1
                primary:
                  binary: mariadbd
                  options: [--binlog-format=ROW]
                  init_sql: CREATE DATABASE app; CREATE TABLE app.t (id INT)
                  env: {TZ: UTC}
                  startup_timeout: 30s
                  catch_up_timeout: 45s
                server: {options: ["--replicate-wild-do-table=app.%"]}
                steps:
                  - {label: write, on: primary, sql: INSERT INTO app.t VALUES (1), catch_up_timeout: 5s}
                  - {label: local, on: server, sql: SELECT 1}
                """,
            fileName: "plan.yaml"
        )
        let primary = try #require(plan.primary)
        let server = try #require(primary.server)
        #expect(server.binary == "mariadbd")
        #expect(server.options == ["--binlog-format=ROW"])
        #expect(server.initSQL == ["CREATE DATABASE app", "CREATE TABLE app.t (id INT)"])
        #expect(server.environment == ["TZ": "UTC"])
        #expect(server.startupTimeout == PlanDuration(milliseconds: 30_000))
        #expect(primary.catchUpTimeout == PlanDuration(milliseconds: 45_000))
        #expect(plan.target.server?.options == ["--replicate-wild-do-table=app.%"])
        #expect(plan.steps[0].on == .primary)
        #expect(plan.steps[0].catchUpTimeout == PlanDuration(milliseconds: 5000))
        #expect(plan.steps[1].on == .server)

        // Written back and loaded again, it is the same plan.
        let again = try Plan.load(yaml: try plan.yaml(), fileName: "plan.yaml")
        #expect(again == plan)
    }

    @Test func anEmptyPrimaryIsTheDefaultServerWithTheDefaultTimeout() throws {
        let plan = try Plan.load(
            yaml: "version: 1\nprimary:\nsteps: [{label: w, on: primary, sql: SELECT 1}]",
            fileName: "plan.yaml"
        )
        #expect(plan.primary == Plan.Primary(source: .server(Plan.Server())))
        #expect(plan.primary?.catchUpTimeout == PlanDuration(milliseconds: 30_000))
    }

    @Test func onPrimaryWithoutAPrimaryIsRefused() {
        #expect(
            errorLines("version: 1\nsteps:\n  - {label: write, on: primary, sql: SELECT 1}") == [
                "plan.yaml:3:24: step 'write' runs on: primary, but the plan has no primary; add primary: beside "
                    + "server: (a primary snapctl starts) or attach: {primary: {host: ..., port: ...}} (a running one), "
                    + "or remove on: primary"
            ]
        )
    }

    @Test func onTakesServerOrPrimary() {
        #expect(
            errorLines("version: 1\nprimary:\nsteps:\n  - {label: w, on: primry, sql: SELECT 1}") == [
                "plan.yaml:4:20: 'on' in step 'w': unknown value 'primry'; did you mean 'primary'?"
            ]
        )
        #expect(
            errorLines("version: 1\nprimary:\nsteps:\n  - {label: s, on: primary, sleep: 1s}") == [
                "plan.yaml:4:16: 'on' does not apply to a sleep step (step 's'); it goes with sql, sql_file, parallel steps"
            ]
        )
    }

    @Test func catchUpTimeoutGoesWithOnPrimary() {
        #expect(
            errorLines("version: 1\nprimary:\nsteps:\n  - {label: w, sql: SELECT 1, catch_up_timeout: 2s}") == [
                "plan.yaml:4:31: 'catch_up_timeout' in step 'w' applies to steps with on: primary (the replica "
                    + "catches up after them); add on: primary or remove it"
            ]
        )
        #expect(
            errorLines("version: 1\nprimary: {catch_up_timeout: 0s}\nsteps: [{label: w, sql: SELECT 1}]") == [
                "plan.yaml:2:29: 'catch_up_timeout' in primary: expected a duration longer than 0s, got '0'"
            ]
        )
    }

    @Test func attachTakesTheRunningPrimarysConnection() throws {
        let plan = try Plan.load(
            yaml: """
                version: 1
                attach:
                  pid: 4242
                  socket: /run/mysqld/replica.sock
                  primary: {host: 127.0.0.1, port: 3307, user: app, password_env: PRIMARY_PWD, catch_up_timeout: 10s}
                steps: [{label: w, on: primary, sql: SELECT 1}]
                """,
            fileName: "plan.yaml"
        )
        let primary = try #require(plan.primary)
        #expect(
            primary.existing
                == Plan.PrimaryConnection(
                    endpoint: .tcp(host: "127.0.0.1", port: 3307),
                    user: "app",
                    passwordEnv: "PRIMARY_PWD"
                )
        )
        #expect(primary.catchUpTimeout == PlanDuration(milliseconds: 10_000))
        #expect(plan.target.attach?.pid == 4242)
        let again = try Plan.load(yaml: try plan.yaml(), fileName: "plan.yaml")
        #expect(again == plan)
    }

    @Test func anAttachedPrimaryWithoutItsConnectionIsRefused() {
        #expect(
            errorLines("version: 1\nattach: {pid: 42, primary: {user: repl}}\nsteps: [{label: w, sql: SELECT 1}]") == [
                "plan.yaml:2:19: 'primary' in attach has no connection; say how to reach the running primary with "
                    + "socket: or host: (and port:), e.g. primary: {host: 127.0.0.1, port: 3306, user: repl, "
                    + "password_env: PRIMARY_PWD}"
            ]
        )
        #expect(
            errorLines("version: 1\nattach: {pid: 42, primary: }\nsteps: [{label: w, sql: SELECT 1}]").first?
                .contains("'primary' in attach has no connection") == true
        )
        #expect(
            errorLines(
                "version: 1\nattach: {pid: 42, primary: {socket: /s, host: h}}\nsteps: [{label: w, sql: SELECT 1}]"
            )
                == ["plan.yaml:2:29: primary of attach has both 'socket' and 'host'; connect through one of them"]
        )
    }

    @Test func aStartedPrimaryBesideAttachIsRefused() {
        let errors = errorLines("version: 1\nattach: {pid: 42}\nprimary: {}\nsteps: [{label: w, sql: SELECT 1}]")
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("plan.yaml:3:1: 'primary' beside 'attach' would start a new primary") == true)
    }

    @Test func aPasswordInThePrimaryIsRefused() {
        #expect(
            errorLines("version: 1\nprimary: {password: x}\nsteps: [{label: w, sql: SELECT 1}]").first?
                .contains("passwords may not be written in a plan") == true
        )
    }
}
