import Foundation
import MySQLServer
import RunRecord
import Synchronization

@testable import Session

/// What the fake replica knows of replication: the primary's binary log (a count of transactions in
/// domain 0), what the replica applied, and how it behaves.
struct FakeReplication {
    /// Transactions the primary has written (its `@@gtid_binlog_pos` is `0-1-N`).
    var binlog = 3
    /// Transactions the replica applied.
    var applied = 0
    /// `CHANGE MASTER` was run (or the replica was set up before an attach).
    var configured = false
    var ioRunning = "No"
    var sqlRunning = "No"
    var lastIOErrno = 0
    var lastIOError = ""
    var lastSQLErrno = 0
    var lastSQLError = ""
    /// The IO thread fails to connect with this error at `START SLAVE`.
    var connectError: Int?
    /// The IO thread reads `Preparing` for this many more `SHOW SLAVE STATUS`, then `Yes` (a replica
    /// started just before an attach); `nil` leaves it as it is.
    var preparingFor: Int?
    /// The replica stops applying (a slow replica).
    var stalled = false
    /// The SQL thread stops with this error at the next transaction.
    var breakWith: Int?
    /// `CHANGE MASTER` fails with the statement in its error (as Connector/C reports it).
    var changeMasterFails = false
    /// Statements the replica received for replication, in order.
    var statements: [String] = []
}

extension FakeServer {
    /// Answers the replication statements a replica gets; `nil` for every other statement.
    func replicaAnswer(_ sql: String, connection: String) async throws(ServerError) -> QueryResult? {
        if sql.hasPrefix("SELECT MASTER_GTID_WAIT(") {
            let applied = state.withLock { state -> Bool in
                var replication = state.replication
                defer { state.replication = replication }
                if let code = replication.breakWith, replication.applied < replication.binlog {
                    replication.sqlRunning = "No"
                    replication.lastSQLErrno = code
                    replication.lastSQLError = "Error 'scripted' on query"
                    replication.breakWith = nil
                }
                if replication.sqlRunning == "Yes" && !replication.stalled {
                    replication.applied = replication.binlog
                }
                return replication.applied >= replication.binlog
            }
            if !applied { try? await Task.sleep(for: .milliseconds(20)) }
            return answer(["w"], [[applied ? "0" : "-1"]])
        }
        if sql == "SHOW SLAVE STATUS" {
            let replication = state.withLock { state -> FakeReplication in
                if let left = state.replication.preparingFor {
                    state.replication.ioRunning = left > 0 ? "Preparing" : "Yes"
                    state.replication.preparingFor = left > 0 ? left - 1 : nil
                }
                return state.replication
            }
            guard replication.configured else { return answer(["Slave_IO_Running"], []) }
            return answer(
                [
                    "Slave_IO_Running", "Slave_SQL_Running", "Seconds_Behind_Master", "Relay_Log_Space",
                    "Last_IO_Errno", "Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error",
                ],
                [
                    [
                        replication.ioRunning, replication.sqlRunning,
                        replication.sqlRunning == "Yes" ? String(replication.binlog - replication.applied) : nil,
                        "4096", String(replication.lastIOErrno), replication.lastIOError,
                        String(replication.lastSQLErrno), replication.lastSQLError,
                    ]
                ]
            )
        }
        if sql == "SELECT @@gtid_slave_pos" {
            let applied = state.withLock { $0.replication.applied }
            return answer(["p"], [[applied == 0 ? "" : "0-1-\(applied)"]])
        }
        guard
            sql.hasPrefix("SET GLOBAL gtid_slave_pos") || sql.hasPrefix("CHANGE MASTER") || sql == "START SLAVE"
                || sql == "STOP SLAVE SQL_THREAD"
        else { return nil }
        let failure = state.withLock { state -> Bool in
            state.replication.statements.append(sql)
            if sql.hasPrefix("SET GLOBAL gtid_slave_pos") {
                let position = sql.split(separator: "'").dropFirst().first.map(String.init) ?? ""
                state.replication.applied = Int(position.split(separator: "-").last ?? "") ?? 0
            } else if sql.hasPrefix("CHANGE MASTER") {
                if state.replication.changeMasterFails { return true }
                state.replication.configured = true
            } else if sql == "START SLAVE" {
                state.replication.sqlRunning = "Yes"
                if let code = state.replication.connectError {
                    state.replication.ioRunning = "Connecting"
                    state.replication.lastIOErrno = code
                    state.replication.lastIOError = "error connecting to master 'snapctl_repl@127.0.0.1:1'"
                } else {
                    state.replication.ioRunning = "Yes"
                }
            } else {
                state.replication.sqlRunning = "No"
            }
            return false
        }
        if failure {
            throw .sql(
                SQLError(code: 1210, sqlState: "HY000", message: "scripted", connection: connection, statement: sql)
            )
        }
        return answer([], [])
    }
}

/// A scripted primary: every statement of a step writes one transaction to the fake replica's
/// replication state. Statement words:
/// - `STALL`: the replica stops applying (it will not catch up).
/// - `BREAK n`: the replica's SQL thread stops with error n on this transaction.
/// - `FAIL n`: fails with that error (the transaction is still written, as a failed statement may be).
final class FakePrimary: PrimaryServer, Sendable {
    let replica: FakeServer
    let port: Int
    let attached: Bool
    private let log = Mutex<[String]>([])
    private let stopped = Mutex(false)

    init(replica: FakeServer, port: Int = 33_061, attached: Bool = false) {
        self.replica = replica
        self.port = port
        self.attached = attached
    }

    /// Every statement the primary ran, setup included.
    var statements: [String] { log.withLock { $0 } }
    var isStopped: Bool { stopped.withLock { $0 } }

    var info: RunManifest.PrimaryInfo {
        RunManifest.PrimaryInfo(
            mode: attached ? "attached" : "managed",
            flavor: "mariadb",
            version: "fake",
            pid: attached ? nil : 515_151,
            address: "127.0.0.1:\(port)",
            catchUpTimeoutSeconds: 30
        )
    }

    var replicationSource: (host: String, port: Int)? { attached ? nil : ("127.0.0.1", port) }
    var defaultCredentials: Credentials? { nil }

    func connect(
        name: String,
        user: String,
        password: String?,
        database: String?
    ) async throws(ServerError)
        -> any SQLSession
    {
        FakePrimaryConnection(name: name, primary: self)
    }

    func explain(_ error: ServerError) async -> ServerError { error }
    func death() async -> String? { nil }
    func stop() async -> ServerStop {
        stopped.withLock { $0 = true }
        return ServerStop(shutdown: "fake primary shutdown")
    }

    func run(_ sql: String, connection: String) throws(ServerError) -> QueryResult {
        log.withLock { $0.append(sql) }
        if sql == "SELECT @@gtid_binlog_pos" {
            let position = replica.state.withLock { $0.replication.binlog }
            return answer(["p"], [["0-1-\(position)"]])
        }
        if sql.hasPrefix("SET SESSION") || sql.hasPrefix("CREATE USER") || sql.hasPrefix("GRANT")
            || sql.hasPrefix("KILL")
        {
            return answer([], [])
        }
        let words = sql.split(separator: " ").map(String.init)
        replica.state.withLock { state in
            state.replication.binlog += 1
            switch words.first {
            case "STALL": state.replication.stalled = true
            case "BREAK": state.replication.breakWith = Int(words.last ?? "") ?? 1146
            default: break
            }
        }
        if words.first == "FAIL" {
            throw .sql(
                SQLError(
                    code: UInt32(words.last ?? "") ?? 1064,
                    sqlState: "HY000",
                    message: "scripted failure on the primary",
                    connection: connection,
                    statement: sql
                )
            )
        }
        return answer([], [])
    }
}

/// A connection to the ``FakePrimary``.
final class FakePrimaryConnection: SQLSession {
    let name: String
    let primary: FakePrimary

    init(name: String, primary: FakePrimary) {
        self.name = name
        self.primary = primary
    }

    var threadID: UInt64 { 77 }

    func execute(_ sql: String) async throws(ServerError) -> QueryResult {
        try primary.run(sql, connection: name)
    }

    func close() async {}
}
