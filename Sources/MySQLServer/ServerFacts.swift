/// The configured memory envelope: what the server's configuration says it may use, to set beside what
/// Massif measures.
///
/// `total = globalBuffers + maxConnections * perSession`, the classic worst-case estimate: every
/// connection filling every per-session buffer at once.
public struct MemoryEnvelope: Sendable, Hashable, Codable {
    /// The sum of the global buffers (``ServerFacts/globalBufferVariables`` that the server has).
    public var globalBuffers: UInt64
    /// What one session may allocate: sort, join, read, read_rnd, the in-memory temporary table limit
    /// (the smaller of tmp_table_size and max_heap_table_size, as the server applies both), thread
    /// stack, net buffer, binlog cache and bulk insert buffer.
    public var perSession: UInt64
    /// max_connections.
    public var maxConnections: UInt64
    /// globalBuffers + maxConnections * perSession (saturating).
    public var total: UInt64

    /// Computes the envelope from variable values (name to bytes); missing variables count as 0.
    public init(variables: [String: UInt64]) {
        globalBuffers = ServerFacts.globalBufferVariables.reduce(0) { Self.saturatingAdd($0, variables[$1] ?? 0) }
        var session: UInt64 = 0
        for name in ServerFacts.sessionBufferVariables where name != "tmp_table_size" && name != "max_heap_table_size" {
            session = Self.saturatingAdd(session, variables[name] ?? 0)
        }
        let temporaryTables = [variables["tmp_table_size"], variables["max_heap_table_size"]].compactMap { $0 }
        session = Self.saturatingAdd(session, temporaryTables.min() ?? 0)
        perSession = session
        maxConnections = variables["max_connections"] ?? 0
        let (product, overflow) = maxConnections.multipliedReportingOverflow(by: perSession)
        let (sum, overflow2) = globalBuffers.addingReportingOverflow(product)
        total = overflow || overflow2 ? UInt64.max : sum
    }

    /// Variable values come from the server or from a bundle's manifest: a sum past `UInt64.max` saturates.
    private static func saturatingAdd(_ lhs: UInt64, _ rhs: UInt64) -> UInt64 {
        let (sum, overflow) = lhs.addingReportingOverflow(rhs)
        return overflow ? UInt64.max : sum
    }
}

/// What the server says about itself at start: version, memory variables and the configured envelope
/// (which the run record keeps), and whether it takes TCP logins (which the start checks, not kept). The counters that change while a run goes on (`Memory_used`, the process list) are read at
/// each snapshot by the session, in one place, and recorded as `ServerCounters`.
public struct ServerFacts: Sendable, Hashable, Codable {
    /// Global buffers, allocated once per server.
    public static let globalBufferVariables = [
        "innodb_buffer_pool_size", "innodb_log_buffer_size", "key_buffer_size", "query_cache_size",
        "aria_pagecache_buffer_size",
    ]
    /// Buffers each session may allocate.
    public static let sessionBufferVariables = [
        "sort_buffer_size", "join_buffer_size", "read_buffer_size", "read_rnd_buffer_size", "tmp_table_size",
        "max_heap_table_size", "thread_stack", "net_buffer_length", "binlog_cache_size", "bulk_insert_buffer_size",
    ]
    /// Every variable read: the buffers and max_connections.
    public static var memoryVariables: [String] { globalBufferVariables + sessionBufferVariables + ["max_connections"] }

    /// `VERSION()`.
    public var version: String
    /// `@@version_comment`, which names the distribution.
    public var versionComment: String?
    /// The flavour the version string shows.
    public var flavor: ServerFlavor
    /// The memory variables the server has (a flavour lacking one, e.g. MySQL's aria, leaves it out).
    public var variables: [String: UInt64]
    /// The configured memory envelope.
    public var envelope: MemoryEnvelope
    /// Whether the server takes TCP logins and matches them to accounts by host name (networking on,
    /// `skip_name_resolve` off); `nil` when the server did not say.
    ///
    /// Why it matters: such a server resolves 127.0.0.1 to `localhost`, so a login over the loopback
    /// address passes for `root@localhost`, which has no password in a datadir snapctl initialised.
    public var resolvesTCPLogins: Bool?
    /// Whether the server takes TCP logins at all (`skip_networking` off); `nil` when it did not say.
    public var listensOnTCP: Bool?

    /// Creates facts from their parts.
    public init(
        version: String,
        versionComment: String?,
        flavor: ServerFlavor,
        variables: [String: UInt64]
    ) {
        self.version = version
        self.versionComment = versionComment
        self.flavor = flavor
        self.variables = variables
        self.envelope = MemoryEnvelope(variables: variables)
    }

    /// Every variable read: the memory variables, `version` (what `VERSION()` returns),
    /// `version_comment`, which names the distribution, and the two that say whether TCP logins are
    /// matched by host name (``resolvesTCPLogins``).
    public static var factVariables: [String] {
        memoryVariables + ["version", "version_comment", "skip_networking", "skip_name_resolve"]
    }

    /// The statement read first: each variable by name, in one row (`@@global.NAME` AS `NAME`).
    ///
    /// Why not `SHOW GLOBAL VARIABLES`: that walks all of the server's ~1,000 variables and filters
    /// afterwards, and the first time it runs under valgrind every variable's code has to be translated:
    /// about 180 ms of the first step for MariaDB 10.11 on our machines, against about 80 ms for this.
    public static var selectQuery: String {
        "SELECT " + factVariables.map { "@@global.\($0) AS `\($0)`" }.joined(separator: ", ")
    }

    /// The statement that reads the facts from any server: the rows of the variables it has
    /// (`Variable_name`, `Value`). Used when ``selectQuery`` names a variable the server lacks (MySQL
    /// has no Aria, newer releases drop the query cache).
    public static var query: String {
        let names = factVariables.map { "'\($0)'" }.joined(separator: ",")
        return "SHOW GLOBAL VARIABLES WHERE Variable_name IN (\(names))"
    }

    /// The server's answers to a variable it does not have: `ER_UNKNOWN_SYSTEM_VARIABLE` and
    /// `ER_INCORRECT_GLOBAL_LOCAL_VAR` (a variable that exists only per session).
    static let missingVariableCodes: Set<UInt32> = [1193, 1238]

    /// Reads the facts over `connection`: ``selectQuery``, or ``query`` when the server lacks one of the
    /// variables. Other SQL errors are thrown.
    public static func read(from connection: any SQLSession) async throws(ServerError) -> ServerFacts {
        do throws(ServerError) {
            return parseSelected(try await connection.execute(selectQuery))
        } catch {
            guard case .sql(let failure) = error, missingVariableCodes.contains(failure.code) else { throw error }
            return parse(try await connection.execute(query))
        }
    }

    /// The facts in the one row of ``selectQuery`` (a column per variable, named after it).
    public static func parseSelected(_ result: QueryResult) -> ServerFacts {
        let row = result.rows.first ?? []
        let rows = zip(result.columns, row).map { name, value -> [String?] in [name, value] }
        return parse(
            QueryResult(
                columns: ["Variable_name", "Value"],
                rows: rows,
                affectedRows: result.affectedRows,
                warningCount: result.warningCount,
                insertID: result.insertID
            )
        )
    }

    /// The facts in the rows of ``query`` (`Variable_name`, `Value`); a variable the server lacks is left out.
    public static func parse(_ result: QueryResult) -> ServerFacts {
        var version = ""
        var comment: String?
        var variables: [String: UInt64] = [:]
        var skipNetworking: Bool?
        var skipNameResolve: Bool?
        for row in result.rows where row.count >= 2 {
            guard let name = row[0]?.lowercased(), let text = row[1] else { continue }
            switch name {
            case "version": version = text
            case "version_comment": comment = text
            case "skip_networking": skipNetworking = flag(text)
            case "skip_name_resolve": skipNameResolve = flag(text)
            default: if let value = UInt64(text) { variables[name] = value }
            }
        }
        var facts = ServerFacts(
            version: version,
            versionComment: comment,
            flavor: (version + " " + (comment ?? "")).lowercased().contains("mariadb") ? .mariadb : .mysql,
            variables: variables
        )
        if let skipNetworking {
            facts.listensOnTCP = !skipNetworking
            if let skipNameResolve { facts.resolvesTCPLogins = !skipNetworking && !skipNameResolve }
        }
        return facts
    }

    /// A boolean variable's value: `1`/`0` from `@@global.NAME`, `ON`/`OFF` from `SHOW VARIABLES`.
    static func flag(_ text: String) -> Bool? {
        switch text.uppercased() {
        case "1", "ON", "TRUE": return true
        case "0", "OFF", "FALSE": return false
        default: return nil
        }
    }
}
