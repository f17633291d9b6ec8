extension Plan {
    /// The plan's SQL as a mysqltest file (`mariadb-test`, `mysqltest`): the form MariaDB and MySQL
    /// maintainers run in their test suites and ask for in bug reports.
    ///
    /// Connections are opened where a step first uses them (`connect`) and switched with `connection`;
    /// `init_sql` runs on the default connection first; an expected error becomes `--error` before the
    /// step's last statement (`--error S42S02` for an SQLSTATE); `repeat` a `while` loop; `parallel` one
    /// `send` per connection and then one `reap` per connection, statement by statement; `shell` an
    /// `--exec`; `sleep` a `--sleep`; snapshots comments. Result sets are not logged: a heap-growth test
    /// checks that the statements run (and fail where expected), not what they return. Pure.
    ///
    /// - Parameter source: the plan file as named, for the header.
    public func mysqlTest(source: String? = nil) -> String {
        var writer = MysqlTestWriter(plan: self)
        return writer.write(source: source)
    }
}

/// Builds the text of ``Plan/mysqlTest(source:)``.
struct MysqlTestWriter {
    let plan: Plan
    var lines: [String] = []
    /// Connections opened so far (mysqltest names).
    var opened: Set<String> = []
    /// The connection statements currently go to (`default` at the start).
    var current = "default"

    /// Words that mysqltest reads as its own commands at the start of a line; a statement starting with
    /// one is sent with `query` so that it reaches the server.
    static let commandWords: Set<String> = [
        "append_file", "cat_file", "change_user", "character_set", "chmod", "connect", "connection", "copy_file",
        "dec", "delimiter", "die", "diff_files", "dirty_close", "disconnect", "echo", "end", "end_timer", "error",
        "eval", "exec", "execw", "exit", "file_exists", "horizontal_results", "if", "inc", "let", "list_files",
        "lowercase_result", "mkdir", "move_file", "output", "perl", "ping", "query", "query_get_value",
        "query_horizontal", "query_vertical", "real_sleep", "reap", "remove_file", "replace_column",
        "replace_regex", "replace_result", "require", "reset_connection", "result_format", "rmdir", "send",
        "send_eval", "send_quit", "send_shutdown", "shutdown_server", "skip", "sleep", "sorted_result", "source",
        "start_timer", "sync_slave_with_master", "sync_with_master", "system", "vertical_results", "while",
        "write_file",
    ]

    init(plan: Plan) {
        self.plan = plan
    }

    mutating func write(source: String?) -> String {
        lines.append("# snapctl plan '\(plan.name)'" + (plan.description.map { ": " + oneLine($0) } ?? ""))
        lines.append("# exported by snapctl export mtr" + (source.map { " from " + $0 } ?? ""))
        lines.append("# run: mariadb-test --user=root --socket=SOCKET --test-file=THIS_FILE")
        lines.append("# (or put it in mysql-test/main/ and run: ./mtr NAME)")
        switch plan.target {
        case .server(let server):
            if !server.options.isEmpty {
                lines.append("# server options (for mtr, in NAME-master.opt): " + server.options.joined(separator: " "))
            }
            if let binary = server.binary { lines.append("# server binary: \(binary)") }
        case .attach(let attach):
            lines.append("# the run attached to a running server as user '\(attach.user)'")
        }
        if let primary = plan.primary {
            for line in Self.primaryNotice(primary) { lines.append("# " + line) }
        }
        lines.append("# result sets are not logged: the test checks that statements run and fail where expected")
        lines.append("--disable_result_log")
        lines.append("")

        if let initSQL = plan.target.server?.initSQL, !initSQL.isEmpty {
            lines.append("# init_sql: after the server starts, before step 1, not snapshotted")
            for statement in initSQL { statementLines(statement) }
            lines.append("")
        }

        var shellNoted = false
        for (position, step) in plan.steps.enumerated() {
            let index = position + 1
            if case .snap = step.kind {
                lines.append("# [\(index)] snapctl takes a detailed heap snapshot here: '\(step.label)'")
                lines.append("")
                continue
            }
            if step.on == .primary {
                // Not run here: this test covers the profiled server only (see the header).
                lines.append("# [\(index)] \(oneLine(step.label)) (\(step.kind.key)) ran on the primary; not run here:")
                for statement in step.statements { lines.append("#   " + oneLine(statement) + ";") }
                lines.append("")
                continue
            }
            lines.append("--echo # [\(index)] \(oneLine(step.label)) (\(step.kind.key))")
            lines.append("# snapctl snapshots: " + snapshotNote(step.snapshots))
            if let timeout = step.timeout { lines.append("# timeout in the plan: \(timeout)") }
            if let maxGrowth = step.maxGrowth { lines.append("# budget: the heap may grow by at most \(maxGrowth)") }
            if let rows = step.expect?.rows { lines.append("# the plan expects \(rows) rows from the last statement") }
            if let warnings = step.expect?.warnings {
                lines.append("# the plan expects \(warnings) warnings from the last statement")
            }
            switch step.kind {
            case .sql, .sqlFile:
                switchTo(connectionFor(step))
                let statements = step.statements
                if step.repeat > 1 {
                    let variable = "$snapctl_rounds_\(index)"
                    lines.append("--let \(variable)= \(step.repeat)")
                    lines.append("while (\(variable))")
                    lines.append("{")
                    emit(statements, expect: step.expect?.error)
                    lines.append("  --dec \(variable)")
                    lines.append("}")
                } else {
                    emit(statements, expect: step.expect?.error)
                }
            case .parallel(let parallel):
                emitParallel(step, parallel: parallel, index: index)
            case .shell(let command):
                if !shellNoted {
                    lines.append(
                        "# snapctl runs shell steps with SNAPCTL_SOCKET (the server's socket) in their environment;"
                    )
                    lines.append("# under mtr, export SNAPCTL_SOCKET=$MASTER_MYSOCK first")
                    shellNoted = true
                }
                lines.append("--exec " + command.split(whereSeparator: \.isNewline).joined(separator: " ; "))
            case .sleep(let duration):
                lines.append("--sleep " + seconds(duration))
            case .snap:
                break
            }
            lines.append("")
        }

        for name in opened.sorted() { lines.append("--disconnect \(name)") }
        lines.append("--connection default")
        lines.append("--enable_result_log")
        lines.append("--echo # done")
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the header says of a plan with a primary: the test covers the profiled server (the replica)
    /// only, with no replication, and the primary's part is left as comments.
    static func primaryNotice(_ primary: Plan.Primary) -> [String] {
        var notice = [
            "NOTE: this plan profiles a replica fed by a primary. This test covers only the profiled server (the",
            "replica): it sets up no replication, and the steps the plan runs on the primary (on: primary) are",
            "below as comments, not run. The replica's memory in the plan came from applying what those steps wrote.",
        ]
        if let server = primary.server {
            if !server.options.isEmpty { notice.append("primary options: " + server.options.joined(separator: " ")) }
            for statement in server.initSQL {
                notice.append(
                    "primary init_sql: " + statement.split(whereSeparator: \.isNewline).joined(separator: " ")
                )
            }
        }
        return notice
    }

    /// The statements, the expected error before the last one.
    mutating func emit(_ statements: [String], expect: Plan.ExpectedError?) {
        for (offset, statement) in statements.enumerated() {
            if offset == statements.count - 1, let expect { lines.append("--error " + errorText(expect)) }
            statementLines(statement)
        }
    }

    /// One statement with its delimiter; a statement that holds `;` is sent with a delimiter of its own.
    /// `prefix` is a mysqltest command that takes the statement (`send `).
    mutating func statementLines(_ statement: String, prefix: String = "") {
        let firstWord = statement.prefix { $0.isLetter || $0 == "_" }.lowercased()
        let text = (prefix.isEmpty && Self.commandWords.contains(firstWord) ? "query " : "") + statement
        if statement.contains(";") {
            lines.append("--delimiter //")
            lines.append(prefix + text + "//")
            lines.append("--delimiter ;")
        } else {
            lines.append(prefix + text + ";")
        }
    }

    mutating func emitParallel(_ step: Plan.Step, parallel: Plan.Parallel, index: Int) {
        let declared = plan.connection(for: step)
        let names = (1...max(parallel.connections, 1)).map { "\(safeName(step.label))_\(index)_\($0)" }
        for name in names { lines.append(connectLine(name: name, connection: declared)) }
        current = names.last ?? current
        for statement in parallel.statements {
            for name in names {
                lines.append("--connection \(name)")
                statementLines(statement, prefix: "send ")
            }
            for name in names {
                lines.append("--connection \(name)")
                lines.append("--reap")
            }
        }
        for name in names { lines.append("--disconnect \(name)") }
        current = "default"
    }

    /// The mysqltest name of the step's connection, opened on first use.
    mutating func connectionFor(_ step: Plan.Step) -> String {
        guard let declared = plan.connection(for: step) else { return "default" }
        let name = safeName(declared.name)
        if !opened.contains(name) {
            lines.append(connectLine(name: name, connection: declared))
            opened.insert(name)
            current = name
        }
        return name
    }

    mutating func switchTo(_ name: String) {
        if name != current {
            lines.append("--connection \(name)")
            current = name
        }
    }

    /// `connect (name,localhost,user,password,database);` with the password taken from the environment
    /// variable the plan names, never written out.
    func connectLine(name: String, connection: Plan.Connection?) -> String {
        var user = connection?.user ?? Plan.Connection.defaultUser
        var passwordEnv = connection?.passwordEnv
        if let attach = plan.target.attach, passwordEnv == nil, user == Plan.Connection.defaultUser {
            user = attach.user
            passwordEnv = attach.passwordEnv
        }
        let password = passwordEnv.map { "$" + $0 } ?? ""
        return "connect (\(name),localhost,\(user),\(password),\(connection?.database ?? ""));"
    }

    func errorText(_ error: Plan.ExpectedError) -> String {
        switch error {
        case .code(let code): return String(code)
        case .sqlState(let state): return "S" + state
        }
    }

    func snapshotNote(_ snapshots: Plan.StepSnapshots) -> String {
        var text = "before \(snapshots.before.rawValue), after \(snapshots.after.rawValue)"
        if let during = snapshots.during { text += ", light ones every \(during) while it runs" }
        return text
    }

    /// mysqltest connection names: letters, digits and `_`.
    func safeName(_ name: String) -> String {
        let mapped = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
        return mapped.isEmpty ? "c" : mapped
    }

    func seconds(_ duration: PlanDuration) -> String {
        let milliseconds = duration.milliseconds
        if milliseconds % 1000 == 0 { return String(milliseconds / 1000) }
        var fraction = String(milliseconds % 1000)
        while fraction.count < 3 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(milliseconds / 1000).\(fraction)"
    }

    func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
