import Plan

/// What the person replaying a bundle allows beyond the safe default, each by its own flag.
public struct ReplayPermissions: Sendable, Hashable {
    /// `--allow-shell`: run the plan's `shell:` steps.
    public var allowShell: Bool
    /// `--allow-server-option NAME`: server options outside ``ReplayConsent/acceptedServerOptions``, by
    /// name (`port`, `bind-address`, `init-file`).
    public var serverOptions: Set<String>
    /// `--allow-valgrind-option NAME`: Massif options outside ``ReplayConsent/acceptedMassifOptions``.
    public var massifOptions: Set<String>
    /// `--server-binary PATH`: the server to run instead of the one the bundle names.
    public var serverBinary: String?

    public init(
        allowShell: Bool = false,
        serverOptions: Set<String> = [],
        massifOptions: Set<String> = [],
        serverBinary: String? = nil
    ) {
        self.allowShell = allowShell
        self.serverOptions = Set(serverOptions.map(ReplayConsent.optionName))
        self.massifOptions = Set(massifOptions.map(ReplayConsent.optionName))
        self.serverBinary = serverBinary
    }
}

/// What a bundle's plan will do when replayed, said before anything runs, and what of it needs the
/// user's explicit permission.
///
/// A bundle is a file from someone else. Its SQL runs inside a private server, but a `shell:` step is a
/// command run as the user, and server options can open the network, load plugins or read and write
/// files. So replay accepts by default only what changes memory figures, and names the flag for the
/// rest. Pure: a plan in, lines out.
public enum ReplayConsent {
    /// Server options a bundle may set: the memory-relevant ones (buffer and cache sizes, engines,
    /// character sets, limits). Names as ``optionName(_:)`` gives them. Any option whose name ends in
    /// `-size` is accepted too when its value is a number with an optional K, M, G or T.
    public static let acceptedServerOptions: Set<String> = [
        "aria-pagecache-buffer-size", "binlog-cache-size", "bulk-insert-buffer-size",
        "character-set-server", "collation-server", "default-storage-engine", "default-tmp-storage-engine",
        "explicit-defaults-for-timestamp", "group-concat-max-len", "host-cache-size", "histogram-size",
        "innodb-adaptive-hash-index", "innodb-buffer-pool-chunk-size", "innodb-buffer-pool-instances",
        "innodb-buffer-pool-size", "innodb-change-buffering", "innodb-file-per-table", "innodb-ft-cache-size",
        "innodb-ft-total-cache-size", "innodb-log-buffer-size", "innodb-log-file-size", "innodb-open-files",
        "innodb-sort-buffer-size", "join-buffer-size", "join-cache-level", "key-buffer-size", "key-cache-segments",
        "max-allowed-packet", "max-connections", "max-heap-table-size", "max-prepared-stmt-count",
        "max-sort-length", "max-sp-recursion-depth", "metadata-locks-cache-size", "myisam-sort-buffer-size",
        "net-buffer-length", "open-files-limit", "optimizer-switch", "optimizer-search-depth",
        "performance-schema", "performance-schema-max-table-instances", "preload-buffer-size",
        "query-alloc-block-size", "query-cache-limit", "query-cache-size", "query-cache-type",
        "query-prealloc-size", "range-alloc-block-size", "read-buffer-size", "read-rnd-buffer-size",
        "sort-buffer-size", "sql-mode", "stored-program-cache", "table-definition-cache", "table-open-cache",
        "table-open-cache-instances", "thread-cache-size", "thread-handling", "thread-pool-size",
        "thread-stack", "tmp-disk-table-size", "tmp-memory-table-size", "tmp-table-size",
        "transaction-alloc-block-size", "transaction-isolation", "transaction-prealloc-size",
        "userstat",
        // What a replica applies and how its primary logs it: filters and the event format shape the
        // replica's memory and cannot open the network, load code or touch files.
        "binlog-format", "binlog-row-image", "replicate-do-db", "replicate-ignore-db", "replicate-do-table",
        "replicate-ignore-table", "replicate-wild-do-table", "replicate-wild-ignore-table", "slave-parallel-threads",
        "slave-parallel-mode",
    ]

    /// Massif options a bundle may set: what and how Massif measures, never where it writes.
    public static let acceptedMassifOptions: Set<String> = [
        "alloc-fn", "depth", "detailed-freq", "heap", "heap-admin", "ignore-fn", "max-snapshots",
        "pages-as-heap", "peak-inaccuracy", "stacks", "threshold", "time-unit",
    ]

    /// What the name of a server binary a bundle names starts with (on `PATH` or as an absolute path).
    public static let serverNames: Set<String> = ["mariadbd", "mysqld"]

    /// The canonical name of an option: no leading dashes, no value, `_` as `-`, without MariaDB's
    /// `loose-`, `maximum-`, `enable-`, `disable-` and `skip-` prefixes (`--skip-foo` sets `foo`).
    public static func optionName(_ option: String) -> String {
        var name = Substring(option)
        while name.hasPrefix("-") { name = name.dropFirst() }
        if let equals = name.firstIndex(of: "=") { name = name[..<equals] }
        var text = name.replacingOccurrences(of: "_", with: "-").lowercased()
        for prefix in ["loose-", "maximum-", "enable-", "disable-", "skip-"] where text.hasPrefix(prefix) {
            text.removeFirst(prefix.count)
        }
        return text
    }

    /// Whether a server option from a bundle is accepted without a flag.
    public static func acceptsServerOption(_ option: String) -> Bool {
        guard option.hasPrefix("--") else { return false }
        let name = optionName(option)
        if acceptedServerOptions.contains(name) { return true }
        guard name.hasSuffix("-size"), let equals = option.firstIndex(of: "=") else { return false }
        return isSize(option[option.index(after: equals)...])
    }

    /// Digits with an optional K, M, G or T.
    static func isSize(_ value: Substring) -> Bool {
        var digits = value
        if let last = digits.last, "kKmMgGtT".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && digits.allSatisfy { $0 >= "0" && $0 <= "9" }
    }

    /// One thing the plan asks for that needs a flag.
    public struct Refusal: Sendable, Hashable, CustomStringConvertible {
        /// Where in plan.yaml (`plan.yaml:12`, or `plan.yaml` when the line is unknown).
        public var place: String
        public var what: String
        /// The flag that allows it.
        public var flag: String

        public var description: String { "\(place): \(what); to allow it, pass \(flag)" }
    }

    /// What replaying `plan` will do, one line each, for the user to read before it runs.
    public static func disclosure(plan: Plan, planText: String) -> [String] {
        var lines: [String] = []
        if let server = plan.target.server {
            lines.append("server: \(server.binary ?? "mariadbd or mysqld from PATH") (\(server.flavor.rawValue))")
            lines.append(
                "server options from the bundle: "
                    + (server.options.isEmpty ? "none" : server.options.joined(separator: " "))
            )
            for statement in server.initSQL { lines.append("init_sql: \(oneLine(statement))") }
        }
        if let primary = plan.primary?.server {
            lines.append(
                "primary (a second server, not profiled): \(primary.binary ?? "mariadbd or mysqld from PATH") "
                    + "(\(primary.flavor.rawValue))"
            )
            lines.append(
                "primary options from the bundle: "
                    + (primary.options.isEmpty ? "none" : primary.options.joined(separator: " "))
            )
            for statement in primary.initSQL { lines.append("primary init_sql: \(oneLine(statement))") }
            lines.append(
                "the primary listens on 127.0.0.1 only, at a free port snapctl picks, for the replica to connect "
                    + "to (--skip-name-resolve, --bind-address and --port last; only the replication user can log "
                    + "in there, root is on the socket only); the replication user's password is generated and "
                    + "kept in memory"
            )
        }
        if !plan.massif.options.isEmpty {
            lines.append("massif options from the bundle: " + plan.massif.options.joined(separator: " "))
        }
        let connections = plan.connections.isEmpty ? [Plan.Connection.main] : plan.connections
        for connection in connections {
            var line = "connection '\(connection.name)': user '\(connection.user)'"
            if let database = connection.database { line += ", database '\(database)'" }
            if let variable = connection.passwordEnv { line += ", password from $\(variable)" }
            lines.append(line)
        }
        for (index, step) in plan.steps.enumerated() {
            if step.on == .primary {
                lines.append("step \(index + 1) '\(step.label)': SQL on the primary, then the replica catches up")
            }
            switch step.kind {
            case .shell(let command):
                lines.append("step \(index + 1) '\(step.label)': shell command: \(oneLine(command))")
            case .sqlFile(let file):
                lines.append(
                    "step \(index + 1) '\(step.label)': sql_file '\(file.path)' (\(file.statements?.count ?? 0) statements, from the bundle's manifest)"
                )
            default:
                continue
            }
        }
        return lines
    }

    /// Everything in `plan` that `permissions` do not allow; empty when the replay may go ahead.
    public static func refusals(plan: Plan, planText: String, permissions: ReplayPermissions) -> [Refusal] {
        var refusals: [Refusal] = []
        func place(_ needle: String) -> String {
            line(of: needle, in: planText).map { "plan.yaml:\($0)" } ?? "plan.yaml"
        }
        var servers: [(what: String, server: Plan.Server)] = []
        if let server = plan.target.server { servers.append(("server", server)) }
        if let primary = plan.primary?.server { servers.append(("primary", primary)) }
        for (what, server) in servers {
            if permissions.serverBinary == nil, let binary = server.binary {
                let base = binary.split(separator: "/").last.map(String.init) ?? binary
                let nameOnly = !binary.contains("/")
                let serverLike = serverNames.contains { base.hasPrefix($0) }
                if !serverLike || (!nameOnly && !binary.hasPrefix("/")) {
                    refusals.append(
                        Refusal(
                            place: place(binary),
                            what:
                                "the bundle names the \(what) binary '\(binary)', not a mariadbd* or mysqld* on PATH or at an absolute path",
                            flag: "--server-binary PATH (the server to run instead)"
                        )
                    )
                }
            }
            for option in server.options where !acceptsServerOption(option) {
                let name = optionName(option)
                guard !permissions.serverOptions.contains(name) else { continue }
                refusals.append(
                    Refusal(
                        place: place(option),
                        what:
                            "\(what) option '\(option)' is not one replay accepts (memory-relevant options only; see docs/bundle.md): it could open the network, load code or read and write files",
                        flag: "--allow-server-option \(name.isEmpty ? option : name)"
                    )
                )
            }
        }
        for option in plan.massif.options {
            let name = optionName(option)
            guard option.hasPrefix("--"),
                acceptedMassifOptions.contains(name) || permissions.massifOptions.contains(name)
            else {
                refusals.append(
                    Refusal(
                        place: place(option),
                        what:
                            "valgrind option '\(option)' is not one replay accepts (what Massif measures only): it could write files or run other tools",
                        flag: "--allow-valgrind-option \(name.isEmpty ? option : name)"
                    )
                )
                continue
            }
        }
        if !permissions.allowShell {
            let shellLines = keyLines("shell", in: planText)
            var shellIndex = 0
            for (index, step) in plan.steps.enumerated() {
                guard case .shell(let command) = step.kind else { continue }
                let line = shellIndex < shellLines.count ? shellLines[shellIndex] : nil
                shellIndex += 1
                refusals.append(
                    Refusal(
                        place: line.map { "plan.yaml:\($0)" } ?? "plan.yaml",
                        what:
                            "step \(index + 1) '\(step.label)' runs the shell command '\(oneLine(command))' as you, with your environment",
                        flag: "--allow-shell"
                    )
                )
            }
        }
        return refusals
    }

    /// The 1-based line of plan.yaml where `needle` first appears.
    static func line(of needle: String, in text: String) -> Int? {
        guard !needle.isEmpty, let range = text.range(of: needle) else { return nil }
        return text[..<range.lowerBound].count { $0 == "\n" } + 1
    }

    /// The 1-based lines where the YAML key `key:` starts (`shell:` or `- shell:`), in file order.
    static func keyLines(_ key: String, in text: String) -> [Int] {
        var lines: [Int] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("- ") { trimmed = trimmed.dropFirst(2).drop { $0 == " " } }
            if trimmed.hasPrefix(key + ":") { lines.append(number + 1) }
        }
        return lines
    }

    static func oneLine(_ text: String) -> String {
        let joined = text.split(separator: "\n").joined(separator: " \u{21B5} ")
        return joined.count > 200 ? String(joined.prefix(200)) + "..." : joined
    }
}
