import Plan

/// Turns lines typed at the prompt into commands and SQL statements.
///
/// A line whose first word is a command is a command. Otherwise it is SQL, gathered until `;` ends it (a
/// statement may span lines). A first word that is no SQL keyword but is within two edits of a command is
/// taken for a mistyped command and refused with a suggestion instead of being sent to the server.
public struct InputBuffer: Sendable, Hashable {
    /// SQL typed so far that no `;` has ended yet.
    public private(set) var pending = ""

    /// What one line asked for.
    public enum Item: Sendable, Hashable {
        case command(ReplRequest)
        case sql(String)
        case error(ReplInputError)
    }

    /// Words that start SQL statements (and so are never taken for mistyped commands).
    public static let sqlKeywords: Set<String> = [
        "alter", "analyze", "begin", "binlog", "cache", "call", "change", "check", "checksum", "commit", "create",
        "deallocate", "declare", "delete", "desc", "describe", "do", "drop", "execute", "explain", "flush", "get",
        "grant", "handler", "insert", "install", "kill", "load", "lock", "optimize", "prepare", "purge", "release",
        "rename", "repair", "replace", "reset", "resignal", "revoke", "rollback", "savepoint", "select", "set",
        "show", "shutdown", "signal", "start", "stop", "table", "truncate", "uninstall", "unlock", "update", "use",
        "values", "with", "xa", "backup", "delimiter", "help", "source",
    ]

    public init() {}

    /// Whether a statement is being continued (the prompt then says so).
    public var isContinuing: Bool { !pending.isEmpty }

    /// Forgets the SQL typed so far (Ctrl-C).
    public mutating func clear() { pending = "" }

    /// What `line` asks for, given the names of the open connections (`use NAME` switches to one of them;
    /// `use DB` for anything else is SQL).
    public mutating func accept(_ line: String, connections: [String] = []) -> [Item] {
        if pending.isEmpty {
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty { return [] }
            switch Self.classify(trimmed, connections: connections) {
            case .command:
                return [Self.parse(trimmed)]
            case .mistyped(let word, let suggestion):
                return [
                    .error(
                        ReplInputError(
                            message: "unknown command '\(word)'; did you mean '\(suggestion)'? (help lists commands)"
                        )
                    )
                ]
            case .sql:
                break
            }
        }
        pending = pending.isEmpty ? line : pending + "\n" + line
        let (statements, rest, state) = SQLInput.scan(pending)
        // What is left after the last `;` continues on the next line, unless it is only comments.
        pending = state.isOpen || SQLInput.hasCode(rest) ? rest : ""
        return statements.filter(SQLInput.hasCode).map { .sql($0) }
    }

    /// At the end of input: the SQL left without its `;`, run as the `mariadb` client runs it.
    public mutating func finish() -> [Item] {
        defer { pending = "" }
        let text = pending.trimmingWhitespace()
        guard SQLInput.hasCode(text) else { return [] }
        return [.sql(text)]
    }

    /// How a line that does not continue SQL is read.
    public enum Kind: Sendable, Hashable {
        case command
        case sql
        /// Not SQL and close to a command: `snpa` for `snap`.
        case mistyped(word: String, suggestion: String)
    }

    /// Whether a fresh line is a command, SQL or a mistyped command.
    public static func classify(_ line: String, connections: [String] = []) -> Kind {
        let word = String(line.prefix { !$0.isWhitespace && $0 != ";" })
        let lower = word.lowercased()
        if lower == "use" {
            // `use NAME` switches connections (and names the ones there are when NAME is none of them);
            // `use db;`, ended like SQL, changes the database.
            return line.hasSuffix(";") ? .sql : .command
        }
        if ReplCommandSet.names.contains(lower) { return .command }
        if sqlKeywords.contains(lower) || word.isEmpty { return .sql }
        if let first = word.first, "(/-#".contains(first) { return .sql }
        if word.allSatisfy({ $0.isLetter || $0 == "-" }),
            let suggestion = EditDistance.closest(to: lower, among: ReplCommandSet.names, within: 2)
        {
            return .mistyped(word: word, suggestion: suggestion)
        }
        return .sql
    }

    static func parse(_ line: String) -> Item {
        switch ReplRequest.parse(line) {
        case .success(let request): return .command(request)
        case .failure(let error): return .error(error)
        }
    }

}
