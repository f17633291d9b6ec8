import Testing

@testable import Plan

@Suite struct PlanMysqlTestTests {
    static let yaml = """
        version: 1
        name: export-me
        description: every kind of step
        server:
          options: [--sort-buffer-size=64M]
          init_sql: [CREATE DATABASE app]
        connections:
          - {name: main, database: app}
          - {name: other-one, user: app, database: app, password_env: APP_PWD}
        steps:
          - label: create
            sql: CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))
          - label: proc
            sql: ["CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", "END"]
          - label: leak
            repeat: 3
            sql: PREPARE s FROM 'SELECT 1'
          - label: many
            parallel: {connections: 2, sql: SELECT COUNT(*) FROM t}
          - label: missing
            sql: SELECT * FROM missing
            expect: {error: 1146}
          - label: missing-state
            connection: other-one
            sql: [SELECT 1, SELECT * FROM missing2]
            expect: {error: "42S02"}
          - snap: checkpoint
          - label: settle
            sleep: 250ms
          - label: flush
            shell: mariadb-admin --socket="$SNAPCTL_SOCKET" flush-tables

        """

    @Test("every step kind in the form mysqltest reads")
    func text() throws {
        let plan = try Plan.load(yaml: Self.yaml, fileName: "export-me.yaml")
        let text = plan.mysqlTest(source: "export-me.yaml")
        let expected = """
            # snapctl plan 'export-me': every kind of step
            # exported by snapctl export mtr from export-me.yaml
            # run: mariadb-test --user=root --socket=SOCKET --test-file=THIS_FILE
            # (or put it in mysql-test/main/ and run: ./mtr NAME)
            # server options (for mtr, in NAME-master.opt): --sort-buffer-size=64M
            # result sets are not logged: the test checks that statements run and fail where expected
            --disable_result_log

            # init_sql: after the server starts, before step 1, not snapshotted
            CREATE DATABASE app;

            --echo # [1] create (sql)
            # snapctl snapshots: before detailed, after detailed
            connect (main,localhost,root,,app);
            CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));

            --echo # [2] proc (sql)
            # snapctl snapshots: before detailed, after detailed
            --delimiter //
            CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END//
            --delimiter ;
            query END;

            --echo # [3] leak (sql)
            # snapctl snapshots: before detailed, after detailed
            --let $snapctl_rounds_3= 3
            while ($snapctl_rounds_3)
            {
            PREPARE s FROM 'SELECT 1';
              --dec $snapctl_rounds_3
            }

            --echo # [4] many (parallel)
            # snapctl snapshots: before detailed, after detailed
            connect (many_4_1,localhost,root,,app);
            connect (many_4_2,localhost,root,,app);
            --connection many_4_1
            send SELECT COUNT(*) FROM t;
            --connection many_4_2
            send SELECT COUNT(*) FROM t;
            --connection many_4_1
            --reap
            --connection many_4_2
            --reap
            --disconnect many_4_1
            --disconnect many_4_2

            --echo # [5] missing (sql)
            # snapctl snapshots: before detailed, after detailed
            --connection main
            --error 1146
            SELECT * FROM missing;

            --echo # [6] missing-state (sql)
            # snapctl snapshots: before detailed, after detailed
            connect (other_one,localhost,app,$APP_PWD,app);
            SELECT 1;
            --error S42S02
            SELECT * FROM missing2;

            # [7] snapctl takes a detailed heap snapshot here: 'checkpoint'

            --echo # [8] settle (sleep)
            # snapctl snapshots: before detailed, after detailed
            --sleep 0.25

            --echo # [9] flush (shell)
            # snapctl snapshots: before detailed, after detailed
            # snapctl runs shell steps with SNAPCTL_SOCKET (the server's socket) in their environment;
            # under mtr, export SNAPCTL_SOCKET=$MASTER_MYSOCK first
            --exec mariadb-admin --socket="$SNAPCTL_SOCKET" flush-tables

            --disconnect main
            --disconnect other_one
            --connection default
            --enable_result_log
            --echo # done

            """
        #expect(text == expected)
    }

    @Test("an attached plan's connections log in as attach's user with its password variable")
    func attached() throws {
        let plan = try Plan.load(
            yaml: """
                version: 1
                attach: {pid: 42, user: admin, password_env: MYSQL_PWD}
                steps:
                  - {label: one, sql: SELECT 1}
                """,
            fileName: "a.yaml"
        )
        let text = plan.mysqlTest()
        #expect(text.contains("connect (main,localhost,admin,$MYSQL_PWD,);"))
        #expect(text.contains("# the run attached to a running server as user 'admin'"))
        #expect(!text.contains("init_sql"))
    }

    @Test(
        "a replica's plan says plainly that the test covers the profiled server only; steps on the primary are comments"
    )
    func replica() throws {
        let plan = try Plan.load(
            yaml: """
                version: 1
                primary: {options: [--binlog-format=ROW], init_sql: [CREATE DATABASE app]}
                server: {init_sql: [CREATE DATABASE app]}
                steps:
                  - {label: write, on: primary, sql: ["CREATE TABLE app.t (id INT)", "INSERT INTO app.t VALUES (1)"]}
                  - {label: read, sql: SELECT 1}
                """,
            fileName: "r.yaml"
        )
        let text = plan.mysqlTest()
        #expect(
            text.contains(
                "# NOTE: this plan profiles a replica fed by a primary. This test covers only the profiled server"
            )
        )
        #expect(text.contains("# primary options: --binlog-format=ROW"))
        #expect(text.contains("# primary init_sql: CREATE DATABASE app"))
        #expect(
            text.contains(
                "# [1] write (sql) ran on the primary; not run here:\n#   CREATE TABLE app.t (id INT);\n"
                    + "#   INSERT INTO app.t VALUES (1);\n"
            )
        )
        // Nothing of the primary's reaches the server the test runs on.
        let run = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(!run.contains { $0.contains("app.t") })
        #expect(run.contains("--echo # [2] read (sql)"))
        #expect(run.contains("SELECT 1;"))
    }
}
