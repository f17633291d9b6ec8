import Testing

@testable import Plan

/// The full plan of docs/plan.md, every key used.
let designPlan = """
    version: 1
    name: sort-buffer-growth
    description: A large ORDER BY with a big session sort buffer
    server:                          # leave out for the default: a fresh MariaDB under Massif
      flavor: auto                   # auto | mariadb | mysql
      binary: mariadbd               # name on PATH or a path
      options: [--sort-buffer-size=64M]
      init_sql: [CREATE DATABASE app]        # after start, before step 1, not snapshotted
      startup_timeout: 120s
    # attach: {pid: 4242, vgdb_prefix: /tmp/vgdb-pipe, socket: /run/mysqld/mysqld.sock, user: root,
    #          password_env: MYSQL_PWD}     # instead of server: one already under valgrind --vgdb=yes
    massif:
      options: [--depth=40]
      time_unit: B                   # i | ms | B
    snapshots:
      default: detailed              # what each step takes before and after: detailed | light | none
    observe: [memory_used, processlist]      # server counters read at every snapshot
    connections:
      - {name: main, user: root, database: app}
    steps:
      - label: create
        sql: CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB
      - label: load
        sql_file: load.sql           # relative to the plan file; statements split on ';'
      - label: sort
        sql: SELECT * FROM t ORDER BY v
        snapshots: {before: detailed, after: detailed, during: 100ms}
        budget: {max_growth: 64MiB}
      - label: prepare-leak
        repeat: 20                   # snapshot after each round; flag steady growth
        sql: PREPARE s FROM 'SELECT 1'
      - label: many-sessions
        parallel: {connections: 16, sql: SELECT * FROM t ORDER BY v}
      - label: bad-query
        sql: SELECT * FROM missing
        expect: {error: 1146}        # a step whose outcome differs fails the run
      - snap: checkpoint             # a snapshot step of its own
      - label: settle
        sleep: 2s
      - label: flush
        shell: mariadb-admin --socket="$SNAPCTL_SOCKET" flush-tables
    """

/// The plan `designPlan` loads to, with `load.sql` unresolved.
let designPlanValue = Plan(
    name: "sort-buffer-growth",
    description: "A large ORDER BY with a big session sort buffer",
    target: .server(
        Plan.Server(
            flavor: .auto,
            binary: "mariadbd",
            options: ["--sort-buffer-size=64M"],
            initSQL: ["CREATE DATABASE app"],
            startupTimeout: .seconds(120)
        )
    ),
    massif: Plan.MassifSettings(options: ["--depth=40"], timeUnit: .bytes),
    snapshots: Plan.SnapshotDefaults(default: .detailed),
    observe: [.memoryUsed, .processlist],
    connections: [Plan.Connection(name: "main", user: "root", database: "app")],
    steps: [
        Plan.Step(
            label: "create",
            kind: .sql(statements: ["CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB"])
        ),
        Plan.Step(label: "load", kind: .sqlFile(Plan.SQLFile(path: "load.sql"))),
        Plan.Step(
            label: "sort",
            kind: .sql(statements: ["SELECT * FROM t ORDER BY v"]),
            snapshots: Plan.StepSnapshots(before: .detailed, after: .detailed, during: PlanDuration(milliseconds: 100)),
            maxGrowth: ByteSize(bytes: 64 << 20)
        ),
        Plan.Step(label: "prepare-leak", kind: .sql(statements: ["PREPARE s FROM 'SELECT 1'"]), repeat: 20),
        Plan.Step(
            label: "many-sessions",
            kind: .parallel(Plan.Parallel(connections: 16, statements: ["SELECT * FROM t ORDER BY v"]))
        ),
        Plan.Step(
            label: "bad-query",
            kind: .sql(statements: ["SELECT * FROM missing"]),
            expect: Plan.Expectation(error: .code(1146))
        ),
        Plan.Step(label: "checkpoint", kind: .snap, snapshots: .uniform(.none)),
        Plan.Step(label: "settle", kind: .sleep(.seconds(2))),
        Plan.Step(label: "flush", kind: .shell(command: #"mariadb-admin --socket="$SNAPCTL_SOCKET" flush-tables"#)),
    ]
)

/// Joins lines into a plan text, so that fixtures show their line numbers plainly.
func lines(_ lines: String...) -> String {
    lines.joined(separator: "\n")
}

/// Loads `yaml` and returns the error lines, or `[]` when it loads.
func errorLines(_ yaml: String, options: Plan.LoadOptions = Plan.LoadOptions()) -> [String] {
    do {
        _ = try Plan.load(yaml: yaml, fileName: "plan.yaml", options: options)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

@Suite struct PlanLoadingTests {
    @Test func loadsTheDesignExample() throws {
        let plan = try Plan.load(yaml: designPlan, fileName: "plans/sort.yaml")
        #expect(plan == designPlanValue)
    }

    @Test func appliesDefaults() throws {
        let plan = try Plan.load(yaml: "version: 1\nsteps: [{label: one, sql: SELECT 1}]", fileName: "plans/smoke.yaml")
        #expect(plan.name == "smoke")
        #expect(plan.target == .server(.embeddedDefault))
        #expect(plan.target.server?.startupTimeout == .seconds(120))
        #expect(plan.target.server?.flavor == .auto)
        #expect(plan.target.server?.binary == nil)
        #expect(plan.massif == Plan.MassifSettings(options: [], timeUnit: .bytes))
        #expect(plan.snapshots.default == .detailed)
        #expect(plan.observe == [.memoryUsed])
        #expect(plan.connections == [Plan.Connection(name: "main", user: "root")])
        #expect(plan.budget.maxHeap == nil)
        #expect(plan.leak == Plan.LeakCheck(minGrowth: ByteSize(bytes: 65536), minRoundsFraction: 0.8))
        #expect(
            plan.steps == [
                Plan.Step(
                    label: "one",
                    kind: .sql(statements: ["SELECT 1"]),
                    repeat: 1,
                    snapshots: Plan.StepSnapshots(before: .detailed, after: .detailed, during: nil)
                )
            ]
        )
        #expect(plan.connection(for: plan.steps[0]) == Plan.Connection.main)
    }

    @Test func stepsFollowThePlanSnapshotDefault() throws {
        let plan = try Plan.load(
            yaml: lines(
                "version: 1",
                "snapshots: {default: light}",
                "steps:",
                "  - {label: a, sql: SELECT 1}",
                "  - {label: b, sql: SELECT 1, snapshots: {during: 50ms}}",
                "  - {label: c, sql: SELECT 1, snapshots: none}",
                "  - {label: d, sql: SELECT 1, snapshots: {after: detailed, during: none}}"
            ),
            fileName: "plan.yaml"
        )
        #expect(
            plan.steps.map(\.snapshots) == [
                Plan.StepSnapshots(before: .light, after: .light),
                Plan.StepSnapshots(before: .light, after: .light, during: PlanDuration(milliseconds: 50)),
                Plan.StepSnapshots(before: .none, after: .none),
                Plan.StepSnapshots(before: .light, after: .detailed),
            ]
        )
    }

    @Test(arguments: [
        (
            "attach over a socket",
            "attach: {pid: 4242, vgdb_prefix: /tmp/vgdb-pipe, socket: /run/mysqld/mysqld.sock, password_env: MYSQL_PWD}",
            Plan.Target.attach(
                Plan.Attach(
                    pid: 4242,
                    vgdbPrefix: "/tmp/vgdb-pipe",
                    endpoint: .socket(path: "/run/mysqld/mysqld.sock"),
                    user: "root",
                    passwordEnv: "MYSQL_PWD"
                )
            )
        ),
        (
            "attach over TCP with the default port",
            "attach: {pid: 7, host: 127.0.0.1, user: app}",
            .attach(Plan.Attach(pid: 7, endpoint: .tcp(host: "127.0.0.1", port: 3306), user: "app"))
        ),
        (
            "attach over TCP",
            "attach: {pid: 7, host: db, port: 3307}",
            .attach(Plan.Attach(pid: 7, endpoint: .tcp(host: "db", port: 3307)))
        ),
        ("attach with the default socket", "attach: {pid: 7}", .attach(Plan.Attach(pid: 7))),
        ("an empty server section", "server:", .server(.embeddedDefault)),
        (
            "a MySQL server",
            "server: {flavor: mysql, binary: /opt/mysql/bin/mysqld, init_sql: 'CREATE DATABASE a; CREATE DATABASE b;'}",
            .server(
                Plan.Server(
                    flavor: .mysql,
                    binary: "/opt/mysql/bin/mysqld",
                    initSQL: ["CREATE DATABASE a", "CREATE DATABASE b"]
                )
            )
        ),
    ])
    func readsTheTarget(name: String, section: String, target: Plan.Target) throws {
        let plan = try Plan.load(yaml: "version: 1\n\(section)\nsteps: [{snap: s}]", fileName: "plan.yaml")
        #expect(plan.target == target)
    }

    @Test(arguments: [
        (
            "sql list", "{label: s, sql: [SELECT 1, 'SELECT 2;']}",
            Plan.Step(label: "s", kind: .sql(statements: ["SELECT 1", "SELECT 2;"]))
        ),
        (
            "sql text with several statements",
            "{label: s, sql: 'SELECT 1; SELECT 2'}",
            Plan.Step(label: "s", kind: .sql(statements: ["SELECT 1", "SELECT 2"]))
        ),
        ("sleep", "{label: s, sleep: 1.5s}", Plan.Step(label: "s", kind: .sleep(PlanDuration(milliseconds: 1500)))),
        (
            "shell with a timeout",
            "{label: s, shell: 'true', timeout: 1m}",
            Plan.Step(label: "s", kind: .shell(command: "true"), timeout: .seconds(60))
        ),
        (
            "expect an SQLSTATE, rows and warnings",
            #"{label: s, sql: SELECT 1, expect: {error: "42s02", rows: 0, warnings: 2}}"#,
            Plan.Step(
                label: "s",
                kind: .sql(statements: ["SELECT 1"]),
                expect: Plan.Expectation(error: .sqlState("42S02"), rows: 0, warnings: 2)
            )
        ),
        (
            "a quoted error number",
            #"{label: s, sql: SELECT 1, expect: {error: "1146"}}"#,
            Plan.Step(label: "s", kind: .sql(statements: ["SELECT 1"]), expect: Plan.Expectation(error: .code(1146)))
        ),
        (
            "a plain five-digit error number",
            "{label: s, sql: SELECT 1, expect: {error: 10000}}",
            Plan.Step(label: "s", kind: .sql(statements: ["SELECT 1"]), expect: Plan.Expectation(error: .code(10000)))
        ),
        (
            "a repeated sql_file on a named connection",
            "{label: s, sql_file: data/load.sql, repeat: 3, connection: main, snapshots: light}",
            Plan.Step(
                label: "s",
                kind: .sqlFile(Plan.SQLFile(path: "data/load.sql")),
                repeat: 3,
                snapshots: .uniform(.light),
                connection: "main"
            )
        ),
        (
            "parallel with a budget",
            "{label: s, parallel: {connections: 4, sql: [SELECT 1, SELECT 2]}, budget: {max_growth: 1G}}",
            Plan.Step(
                label: "s",
                kind: .parallel(Plan.Parallel(connections: 4, statements: ["SELECT 1", "SELECT 2"])),
                maxGrowth: ByteSize(bytes: 1 << 30)
            )
        ),
    ])
    func readsSteps(name: String, step: String, expected: Plan.Step) throws {
        let plan = try Plan.load(yaml: "version: 1\nsteps:\n  - \(step)", fileName: "plan.yaml")
        #expect(plan.steps == [expected])
    }

    @Test func connectionsWithoutAUserLogInAsTheAttachUser() throws {
        let attached = try Plan.load(
            yaml: "version: 1\nattach: {pid: 7, user: app, password_env: APP_PWD}\nsteps: [{snap: a}]",
            fileName: "plan.yaml"
        )
        #expect(attached.connections == [Plan.Connection(name: "main", user: "app", passwordEnv: "APP_PWD")])
        let declared = try Plan.load(
            yaml: lines(
                "version: 1",
                "attach: {pid: 7, user: app, password_env: APP_PWD}",
                "connections: [{name: main, database: d}, {name: admin, user: root}]",
                "steps: [{snap: a}]"
            ),
            fileName: "plan.yaml"
        )
        #expect(
            declared.connections == [
                Plan.Connection(name: "main", user: "app", database: "d", passwordEnv: "APP_PWD"),
                Plan.Connection(name: "admin", user: "root"),
            ]
        )
        #expect(try Plan.load(yaml: try declared.yaml(), fileName: "saved.yaml") == declared)
    }

    @Test func readsEverySectionOfAFullPlan() throws {
        let plan = try Plan.load(
            yaml: lines(
                "version: 1",
                "observe: [global_status, performance_schema]",
                "connections:",
                "  - {name: main, database: app, password_env: APP_PWD}",
                "  - {name: reader, user: ro}",
                "budget: {max_heap: 2GiB}",
                "leak: {min_growth: 1MiB, min_rounds_fraction: 0.5}",
                "steps:",
                "  - {label: read, sql: SELECT 1, connection: reader}"
            ),
            fileName: "plan.yaml"
        )
        #expect(plan.observe == [.globalStatus, .performanceSchema])
        #expect(
            plan.connections == [
                Plan.Connection(name: "main", user: "root", database: "app", passwordEnv: "APP_PWD"),
                Plan.Connection(name: "reader", user: "ro"),
            ]
        )
        #expect(plan.budget.maxHeap == ByteSize(bytes: 2 << 30))
        #expect(plan.leak == Plan.LeakCheck(minGrowth: ByteSize(bytes: 1 << 20), minRoundsFraction: 0.5))
        #expect(plan.connection(for: plan.steps[0])?.user == "ro")
    }

    @Test(arguments: [
        (
            "unknown key in a step, with a suggestion",
            lines(
                "version: 1",
                "steps:",
                "  - label: sort",
                "    sql: SELECT 1",
                "    snapshot: light"
            ),
            ["plan.yaml:5:5: unknown key 'snapshot' in step 'sort'; did you mean 'snapshots'?"]
        ),
        (
            "unknown top-level key without a suggestion",
            lines("version: 1", "colour: blue", "steps: [{snap: a}]"),
            [
                "plan.yaml:2:1: unknown key 'colour' in the plan; the keys here are version, name, description, server, "
                    + "attach, primary, massif, snapshots, observe, connections, budget, leak, allocations, steps"
            ]
        ),
        (
            "wrong types",
            lines(
                "version: 1",
                "server: {flavor: mariadbb, startup_timeout: fast, options: {a: 1}}",
                "massif: {time_unit: s}",
                "steps:",
                "  - {label: a, sleep: 2}",
                "  - {label: b, sql: SELECT 1, timeout: 0s, repeat: many}"
            ),
            [
                "plan.yaml:2:18: 'flavor' in server: unknown value 'mariadbb'; did you mean 'mariadb'?",
                "plan.yaml:2:45: 'startup_timeout' in server: expected a duration like 250ms or 2s, got 'fast'",
                "plan.yaml:2:60: 'options' in server: expected a list of texts, got a mapping",
                "plan.yaml:3:21: 'time_unit' in massif: unknown value 's'; expected one of i | ms | B",
                "plan.yaml:5:23: 'sleep' in step 'a': expected a duration like 250ms or 2s, got '2', which has no unit; "
                    + "did you mean '2s'?",
                "plan.yaml:6:40: 'timeout' in step 'b': expected a duration longer than 0s, got '0'",
                "plan.yaml:6:52: 'repeat' in step 'b': expected a whole number, 1 or more, got 'many'",
            ]
        ),
        (
            "duplicate labels, also after making them file-safe",
            lines(
                "version: 1",
                "steps:",
                "  - {label: load, sql: SELECT 1}",
                "  - {label: a b, sql: SELECT 1}",
                "  - {label: load, sleep: 1s}",
                "  - snap: a_b"
            ),
            [
                "plan.yaml:5:13: duplicate label 'load' (first used at line 3); give each step its own label",
                "plan.yaml:6:11: label 'a_b' and label 'a b' (line 4) both become the file name 'a_b'; rename one",
            ]
        ),
        (
            "a step with no kind, one with two kinds, one with no label",
            lines(
                "version: 1",
                "steps:",
                "  - {label: a, repeat: 2}",
                "  - {label: b, sql: SELECT 1, shell: ls}",
                "  - {sql: SELECT 1}"
            ),
            [
                "plan.yaml:3:5: step 'a' has no kind; give it one of sql, sql_file, snap, sleep, shell, parallel "
                    + "(repeat, snapshots and the like only modify one)",
                "plan.yaml:4:31: step 'b' has more than one kind ('sql' and 'shell'); split it into one step per kind",
                "plan.yaml:5:5: step 3 has no label; add label: NAME (its snapshot files are named after it)",
            ]
        ),
        (
            "modifiers on the wrong kind of step",
            lines(
                "version: 1",
                "steps:",
                "  - {label: a, sleep: 1s, repeat: 2}",
                "  - {snap: b, label: c, budget: {max_growth: 1MiB}}"
            ),
            [
                "plan.yaml:3:27: 'repeat' does not apply to a sleep step (step 'a'); it goes with sql, sql_file steps",
                "plan.yaml:4:15: step 'b': a snap step takes its label from snap:; remove 'label'",
                "plan.yaml:4:25: 'budget' does not apply to a snap step (step 'b'); it goes with sql, sql_file, sleep, "
                    + "shell, parallel steps",
            ]
        ),
        (
            "undeclared connections",
            lines(
                "version: 1",
                "connections: [{name: main}, {name: reader}]",
                "steps:",
                "  - {label: a, sql: SELECT 1, connection: raeder}",
                "  - {label: b, sql: SELECT 1, connection: admin}"
            ),
            [
                "plan.yaml:4:43: step 'a' uses connection 'raeder', which is not declared; did you mean 'reader'?",
                "plan.yaml:5:43: step 'b' uses connection 'admin', which is not declared; declare it under connections: "
                    + "or use one of 'main', 'reader'",
            ]
        ),
        (
            "no steps",
            "version: 1\nname: x",
            [
                "plan.yaml:1:1: the plan has no steps; add steps: with at least one step, e.g. - {label: first, sql: SELECT 1}"
            ]
        ),
        (
            "an empty step list",
            "version: 1\nsteps: []",
            [
                "plan.yaml:2:1: the plan has no steps; add steps: with at least one step, e.g. - {label: first, sql: SELECT 1}"
            ]
        ),
        (
            "both server and attach, and attach without pid",
            lines("version: 1", "server: {flavor: mariadb}", "attach: {socket: /tmp/s}", "steps: [{snap: a}]"),
            [
                "plan.yaml:3:1: the plan has both 'server' (snapctl starts a server, line 2) and 'attach' (snapctl "
                    + "attaches to a running one); keep one"
            ]
        ),
        (
            "attach without pid",
            lines("version: 1", "attach: {socket: /tmp/s, port: 3306}", "steps: [{snap: a}]"),
            [
                "plan.yaml:2:1: attach needs pid: the process id of the valgrind running the server with --vgdb=yes",
                "plan.yaml:2:26: 'port' in attach goes with 'host', not 'socket'; remove it or use host:",
            ]
        ),
        (
            "inline passwords",
            lines(
                "version: 1",
                "connections:",
                "  - {name: main, password: secret}",
                "  - {name: other, password_env: 'my pwd'}",
                "steps: [{snap: a}]"
            ),
            [
                "plan.yaml:3:18: connection 1: passwords may not be written in a plan (it is saved with every run); "
                    + "put the password in an environment variable and name it with password_env, e.g. "
                    + "password_env: MYSQL_PWD",
                "plan.yaml:4:33: 'password_env' in connection 'other': expected the name of an environment variable "
                    + "like MYSQL_PWD, got 'my pwd'; the password itself goes in that variable, never in the plan",
            ]
        ),
        (
            "repeat and parallel connections below 1",
            lines(
                "version: 1",
                "steps:",
                "  - {label: a, sql: SELECT 1, repeat: 0}",
                "  - {label: b, parallel: {connections: 0, sql: SELECT 1}}",
                "  - {label: c, parallel: {sql: SELECT 1}}"
            ),
            [
                "plan.yaml:3:39: 'repeat' in step 'a': expected a whole number, 1 or more, got 0",
                "plan.yaml:4:40: 'connections' in parallel of step 'b': expected a whole number, 1 or more, got 0",
                "plan.yaml:5:26: parallel of step 'c' needs connections: how many connections run the statements at once",
            ]
        ),
        (
            "bad expectations and budgets",
            lines(
                "version: 1",
                "steps:",
                "  - {label: a, sql: SELECT 1, expect: {error: nope, rows: -1}}",
                "  - {label: b, sql: SELECT 1, budget: {max_growth: 64}}",
                "  - {label: c, sql: SELECT 1, budget: {}}"
            ),
            [
                #"plan.yaml:3:47: 'error' in expect of step 'a': expected an error number like 1146 or a quoted SQLSTATE "#
                    + #"like "42S02", got 'nope'"#,
                "plan.yaml:3:59: 'rows' in expect of step 'a': expected a whole number, 0 or more, got -1",
                "plan.yaml:4:52: 'max_growth' in budget of step 'b': expected a size like 64MiB or 512KiB, got '64', "
                    + "which has no unit; did you mean '64MiB' or '64B'?",
                "plan.yaml:5:39: budget of step 'c' needs max_growth, max_peak, max_allocated or max_allocations",
            ]
        ),
        (
            "bad top-level sections",
            lines(
                "version: 1",
                "observe: [memory_used, proceslist, memory_used]",
                "connections: []",
                "leak: {min_rounds_fraction: 1.5, min_growth: lots}",
                "budget: {max_heap: -1GiB}",
                "steps: [{snap: a}]"
            ),
            [
                "plan.yaml:2:24: 'observe' in the plan: unknown value 'proceslist'; did you mean 'processlist'?",
                "plan.yaml:2:36: 'observe' in the plan lists 'memory_used' twice; remove one",
                "plan.yaml:3:14: 'connections' in the plan: expected a list like [{name: main, user: root}], got a list; "
                    + "leave the key out for one connection 'main' as root",
                "plan.yaml:4:29: 'min_rounds_fraction' in leak: expected a fraction above 0 and at most 1, like 0.8, got "
                    + "'1.5'",
                "plan.yaml:4:46: 'min_growth' in leak: expected a size like 64MiB or 512KiB, got 'lots'",
                "plan.yaml:5:20: 'max_heap' in budget: expected a size like 64MiB or 512KiB, got '-1GiB', which is "
                    + "negative; sizes are 0 or more",
            ]
        ),
        (
            "SQL that does not split",
            lines("version: 1", "steps:", "  - label: a", "    sql: |", "      SELECT 1;", "      SELECT 'oops"),
            [
                "plan.yaml:4:10: 'sql' in step 'a': at line 2, column 8 of the SQL: unterminated '-quoted string; "
                    + "close it with '"
            ]
        ),
        (
            "steps that are not mappings",
            lines("version: 1", "steps:", "  - SELECT 1", "  - [a]"),
            [
                "plan.yaml:3:5: step 1: expected a mapping like {label: load, sql: INSERT ...}, got 'SELECT 1'",
                "plan.yaml:4:5: step 2: expected a mapping like {label: load, sql: INSERT ...}, got a list",
            ]
        ),
        (
            "no version",
            "steps: [{snap: a}]",
            ["plan.yaml:1:1: the plan has no version; add version: 1 as its first line"]
        ),
        (
            "a version that is not a number",
            "version: one\nsteps: [{snap: a}]",
            ["plan.yaml:1:10: 'version' in the plan: expected a whole number, 1 or more, got 'one'"]
        ),
        (
            "a newer version hides every other problem",
            lines("version: 2", "widgets: 3", "steps: 4"),
            [
                "plan.yaml:1:10: this plan is format version 2, but this snapctl reads plan versions up to 1; use a "
                    + "newer snapctl that reads plan version 2"
            ]
        ),
        ("an empty file", "", ["plan.yaml:1:1: the plan is empty; start it with version: 1, then name: and steps:"]),
        (
            "not a mapping",
            "- 1\n- 2",
            ["plan.yaml:1:1: the plan: expected a mapping like version: 1, name: ..., steps: [...], got a list"]
        ),
    ])
    func reportsEveryProblem(name: String, yaml: String, expected: [String]) {
        #expect(errorLines(yaml) == expected)
    }

    @Test(arguments: [
        (
            "unclosed flow sequence",
            "version: 1\nsteps: [\n",
            "plan.yaml:3:1: malformed YAML: did not find expected node content (while parsing a flow node at 3:1); "
                + "check the indentation and quoting here"
        ),
        (
            "tab indentation",
            "version: 1\nsteps:\n\t- {snap: a}",
            "plan.yaml:3:1: malformed YAML: found character that cannot start any token (while scanning for the next "
                + "token at 3:1); check the indentation and quoting here"
        ),
        (
            "bad indentation",
            "version: 1\nsteps:\n  - label: a\n   sql: x",
            "plan.yaml:4:4: malformed YAML: did not find expected '-' indicator (while parsing a block collection at "
                + "3:3); check the indentation and quoting here"
        ),
        (
            "a duplicate key",
            "version: 1\nname: a\nname: b\nsteps: [{snap: a}]",
            "plan.yaml:2:1: key 'name' appears more than once in this mapping; keep one"
        ),
    ])
    func translatesMalformedYAML(name: String, yaml: String, expected: String) {
        #expect(errorLines(yaml) == [expected])
    }

    @Test func loadsWithoutStepsWhenAsked() throws {
        let plan = try Plan.load(
            yaml: "version: 1\nname: repl",
            fileName: "plan.yaml",
            options: .init(requireSteps: false)
        )
        #expect(plan == Plan(name: "repl"))
        #expect(plan == Plan.embeddedDefault(name: "repl"))
    }

    @Test func warnsAboutLabelsThatChangeInFileNames() throws {
        let yaml = lines("version: 1", "name: my plan", "steps:", "  - {label: before sort!, sql: SELECT 1}")
        let (plan, warnings) = try Plan.loadWithWarnings(yaml: yaml, fileName: "plan.yaml")
        #expect(plan.steps.map(\.label) == ["before sort!"])
        #expect(
            warnings.map(\.description) == [
                "plan.yaml:2:7: warning: name 'my plan' becomes 'my_plan' in file names (' ' replaced by '_'); use "
                    + "only A-Z, a-z, 0-9, '.', '_' and '-' to keep it as written",
                "plan.yaml:4:13: warning: label 'before sort!' becomes 'before_sort_' in file names (' ', '!' replaced "
                    + "by '_'); use only A-Z, a-z, 0-9, '.', '_' and '-' to keep it as written",
            ]
        )
    }

    @Test func errorsCarryTheirParts() {
        let errors = errorLines("version: 1\nsteps: [{label: a, sql: SELECT 1, snapshot: light}]")
        #expect(errors == ["plan.yaml:2:35: unknown key 'snapshot' in step 'a'; did you mean 'snapshots'?"])
        do {
            _ = try Plan.load(
                yaml: "version: 1\nsteps: [{label: a, sql: SELECT 1, snapshot: light}]",
                fileName: "p.yml"
            )
            Issue.record("expected the plan to be refused")
        } catch {
            #expect(
                error.errors == [
                    PlanError(
                        file: "p.yml",
                        line: 2,
                        column: 35,
                        message: "unknown key 'snapshot' in step 'a'; did you mean 'snapshots'?"
                    )
                ]
            )
        }
    }
}
