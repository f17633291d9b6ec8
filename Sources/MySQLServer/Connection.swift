import CMariaDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a connection goes: a unix socket (the managed server, `--skip-networking`) or TCP.
public enum ConnectionTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    case socket(path: String)
    case tcp(host: String, port: Int)

    public var description: String {
        switch self {
        case .socket(let path): return "socket \(path)"
        case .tcp(let host, let port): return "\(host):\(port)"
        }
    }
}

/// How to open a connection. The password is passed in memory only: it comes from the environment,
/// never from a plan or the command line.
public struct ConnectionOptions: Sendable, Hashable {
    /// The name that errors and the run record use for this connection (a plan's connection name).
    public var name: String
    public var target: ConnectionTarget
    public var user: String
    public var password: String?
    public var database: String?
    /// How long `mysql_real_connect` may take (`MYSQL_OPT_CONNECT_TIMEOUT`), in seconds.
    public var connectTimeoutSeconds: UInt32
    /// How long one network read may block (`MYSQL_OPT_READ_TIMEOUT`), in seconds; `nil` for no limit,
    /// which steps need (a slow query under Massif is not a dead server). Shutdown uses a limit.
    public var readTimeoutSeconds: UInt32?

    /// Creates connection options.
    public init(
        name: String,
        target: ConnectionTarget,
        user: String = "root",
        password: String? = nil,
        database: String? = nil,
        connectTimeoutSeconds: UInt32 = 10,
        readTimeoutSeconds: UInt32? = nil
    ) {
        self.name = name
        self.target = target
        self.user = user
        self.password = password
        self.database = database
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.readTimeoutSeconds = readTimeoutSeconds
    }
}

/// What one statement returned: the result set if it had one, and the counters.
public struct QueryResult: Sendable, Hashable, Codable {
    /// Column names; empty for statements without a result set.
    public var columns: [String]
    /// Rows as text, `nil` for SQL NULL (the text protocol sends every value as text).
    public var rows: [[String?]]
    /// `mysql_affected_rows`: rows changed, or rows returned for a SELECT.
    public var affectedRows: UInt64
    /// `mysql_warning_count`.
    public var warningCount: UInt32
    /// `mysql_insert_id`.
    public var insertID: UInt64

    /// Creates a result from its parts.
    public init(columns: [String], rows: [[String?]], affectedRows: UInt64, warningCount: UInt32, insertID: UInt64) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
        self.warningCount = warningCount
        self.insertID = insertID
    }

    /// The value of `column` in row `row`, looking the column up by name (case-insensitively).
    public func value(_ column: String, row: Int = 0) -> String? {
        guard row < rows.count,
            let index = columns.firstIndex(where: { $0.lowercased() == column.lowercased() })
        else { return nil }
        return rows[row][index]
    }
}

/// Connector/C's process-wide setup, done once before the first connection.
enum ConnectorLibrary {
    /// `mysql_library_init` (a macro for `mysql_server_init`) is not thread-safe and must run once;
    /// a Swift global is initialised exactly once. SIGPIPE is ignored so that writing to a server that
    /// went away gives an error (2006/2013) instead of killing snapctl.
    static let initialised: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return mysql_server_init(0, nil, nil) == 0
    }()
}

/// One MariaDB Connector/C connection, with its own thread.
///
/// The actor's executor is a ``ThreadExecutor``: every method, and so every blocking Connector/C call,
/// runs on the connection's own thread, never on the cooperative pool, and the actor guarantees that
/// one task at a time uses the handle.
public actor Connection {
    /// The name used in errors and in the run record.
    public nonisolated let name: String
    /// Where the connection goes.
    public nonisolated let target: ConnectionTarget
    private nonisolated let executor: ThreadExecutor
    private var handle: UnsafeMutablePointer<MYSQL>?
    /// The server's connection id (`CONNECTION_ID()`, `PROCESSLIST.ID`), known once connected.
    public private(set) var threadID: UInt64 = 0
    /// The server version string (`mysql_get_server_info`), known once connected.
    public private(set) var serverVersion: String = ""

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(name: String, target: ConnectionTarget) {
        self.name = name
        self.target = target
        self.executor = ThreadExecutor(name: "sql-\(name)")
    }

    /// Runs on the connection's thread (an isolated deinit), so `mysql_close` does too; then lets the
    /// thread end.
    isolated deinit {
        if let handle { mysql_close(handle) }
        executor.stop()
    }

    /// Opens a connection; the connect itself runs on the new connection's thread.
    public static func connect(_ options: ConnectionOptions) async throws(ServerError) -> Connection {
        let connection = Connection(name: options.name, target: options.target)
        do {
            try await connection.open(options)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private func open(_ options: ConnectionOptions) throws(ServerError) {
        guard ConnectorLibrary.initialised else {
            throw .sql(
                SQLError(code: 0, sqlState: "HY000", message: "mysql_library_init failed", connection: name)
            )
        }
        guard let mysql = mysql_init(nil) else {
            throw .sql(SQLError(code: 2008, sqlState: "HY000", message: "mysql_init: out of memory", connection: name))
        }
        handle = mysql
        var timeout = options.connectTimeoutSeconds
        mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)
        if var readTimeout = options.readTimeoutSeconds {
            mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &readTimeout)
            mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &readTimeout)
        }
        var host: String?
        var port: UInt32 = 0
        var socket: String?
        var proto: UInt32
        switch options.target {
        case .socket(let path):
            host = "localhost"
            socket = path
            proto = MYSQL_PROTOCOL_SOCKET.rawValue
        case .tcp(let tcpHost, let tcpPort):
            host = tcpHost
            port = UInt32(clamping: tcpPort)
            proto = MYSQL_PROTOCOL_TCP.rawValue
        }
        mysql_options(mysql, MYSQL_OPT_PROTOCOL, &proto)
        let connected = withOptionalCString(host) { host in
            withOptionalCString(options.user) { user in
                withOptionalCString(options.password) { password in
                    withOptionalCString(options.database) { database in
                        withOptionalCString(socket) { socket in
                            mysql_real_connect(mysql, host, user, password, database, port, socket, 0) != nil
                        }
                    }
                }
            }
        }
        guard connected else { throw .sql(lastError(statement: nil)) }
        threadID = UInt64(mysql_thread_id(mysql))
        if let info = mysql_get_server_info(mysql) { serverVersion = String(cString: info) }
    }

    /// Runs one statement and returns its result set (if any) and counters.
    ///
    /// Further result sets (from `CALL`) are read and dropped, so the connection stays usable.
    public func execute(_ sql: String) throws(ServerError) -> QueryResult {
        guard let mysql = handle else { throw .connectionClosed(name: name) }
        let status = sql.withCString { mysql_real_query(mysql, $0, UInt(strlen($0))) }
        if status != 0 { throw .sql(lastError(statement: sql)) }
        var columns: [String] = []
        var rows: [[String?]] = []
        var affected = UInt64(0)
        if let result = mysql_store_result(mysql) {
            defer { mysql_free_result(result) }
            let count = Int(mysql_num_fields(result))
            if let fields = mysql_fetch_fields(result) {
                columns = (0..<count).map { String(cString: fields[$0].name) }
            }
            while let row = mysql_fetch_row(result) {
                guard let lengths = mysql_fetch_lengths(result) else { break }
                rows.append(
                    (0..<count).map { index -> String? in
                        guard let bytes = row[index] else { return nil }
                        let buffer = UnsafeRawBufferPointer(start: bytes, count: Int(lengths[index]))
                        return String(decoding: buffer, as: UTF8.self)
                    }
                )
            }
            affected = UInt64(rows.count)
        } else if mysql_field_count(mysql) != 0 {
            throw .sql(lastError(statement: sql))
        } else {
            affected = UInt64(mysql_affected_rows(mysql))
        }
        let warnings = UInt32(mysql_warning_count(mysql))
        let insertID = UInt64(mysql_insert_id(mysql))
        while mysql_more_results(mysql) != 0 {
            if mysql_next_result(mysql) > 0 { throw .sql(lastError(statement: sql)) }
            if let extra = mysql_store_result(mysql) { mysql_free_result(extra) }
        }
        return QueryResult(
            columns: columns,
            rows: rows,
            affectedRows: affected,
            warningCount: warnings,
            insertID: insertID
        )
    }

    /// Checks that the server still answers (`mysql_ping`).
    public func ping() throws(ServerError) {
        guard let mysql = handle else { throw .connectionClosed(name: name) }
        if mysql_ping(mysql) != 0 { throw .sql(lastError(statement: nil)) }
    }

    /// Closes the connection. Further calls throw ``ServerError/connectionClosed(name:)``.
    ///
    /// The thread itself ends only when the actor is released (in its deinit): a call made after
    /// `close()` must still find a thread to run on, or it would wait for ever.
    public func close() {
        if let handle { mysql_close(handle) }
        handle = nil
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { handle == nil }

    private func lastError(statement: String?) -> SQLError {
        guard let mysql = handle else {
            return SQLError(code: 2006, sqlState: "HY000", message: "connection closed", connection: name)
        }
        return SQLError(
            code: mysql_errno(mysql),
            sqlState: mysql_sqlstate(mysql).map { String(cString: $0) } ?? "HY000",
            message: mysql_error(mysql).map { String(cString: $0) } ?? "",
            connection: name,
            statement: statement
        )
    }
}

private func withOptionalCString<T>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
