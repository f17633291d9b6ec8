import Foundation
import GDBRemote
import MySQLServer
import RunRecord
import Synchronization
import Valgrind

@testable import Session

/// A scripted server: statements change a pretend heap and answer as the script says, so that the
/// engine's rules run without valgrind.
///
/// Statements it understands (anything else succeeds with no rows):
/// - `GROW n`: the heap grows by n bytes (in the site `grow_here`).
/// - `ROWS n`: returns n rows.
/// - `WARN n`: succeeds with n warnings.
/// - `FAIL code state`: fails with that server error.
/// - `DIE`: the server dies; the statement's connection is lost (2013).
/// - `SLEEP`: waits until the statement is killed (`KILL QUERY`), then fails with 1317.
final class FakeServer: ProfiledServer, Sendable {
    struct State {
        var heap = 1_000_000
        var grown = 0
        var dead = false
        var killed: Set<UInt64> = []
        var nextThread: UInt64 = 10
        var statements: [String] = []
        var connections: [String] = []
        var stopped = false
        /// Replication, when the fake is a replica: see ``FakePrimary``.
        var replication = FakeReplication()
        /// The replica's applied position at each snapshot.
        var appliedAtSnapshots: [Int] = []
    }

    let state = Mutex(State())
    let pid: Int32 = 424_242
    let vgdbPrefix = "/tmp/fake-vgdb"
    let socketPath = "/tmp/fake.sock"
    var defaultCredentials: Credentials? { nil }
    var startNotes: [StartNote] { [.warning("a note from the fake server")] }

    var info: RunManifest.ServerInfo {
        RunManifest.ServerInfo(mode: "managed", flavor: "mariadb", version: "fake", pid: pid)
    }

    /// Every statement run, in order, on any connection but the observer's counter reads.
    var statements: [String] { state.withLock { $0.statements } }

    func kill() { state.withLock { $0.dead = true } }

    func connect(
        name: String,
        user: String,
        password: String?,
        database: String?
    ) async throws(ServerError)
        -> any SQLSession
    {
        try open(name)
    }

    func connectObserver() async throws(ServerError) -> any SQLSession { try open("snapctl-observer") }

    private func open(_ name: String) throws(ServerError) -> FakeConnection {
        let (dead, thread) = state.withLock { state -> (Bool, UInt64) in
            state.nextThread += 1
            state.connections.append(name)
            return (state.dead, state.nextThread)
        }
        if dead {
            throw .sql(SQLError(code: 2002, sqlState: "HY000", message: "can't connect", connection: name))
        }
        return FakeConnection(name: name, threadID: thread, server: self)
    }

    func explain(_ error: ServerError) async -> ServerError {
        if case .sql(let sql) = error, sql.isConnectionLost, state.withLock({ $0.dead }) {
            return .noSuchProcess(pid: pid)
        }
        return error
    }

    func death() async -> String? {
        state.withLock { $0.dead } ? "the fake server (pid \(pid)) died" : nil
    }

    func waitForExit() async {
        while !Task.isCancelled && !state.withLock({ $0.dead || $0.stopped }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    func stop() async -> ServerStop {
        state.withLock { $0.stopped = true }
        return ServerStop(shutdown: "fake shutdown")
    }

    /// Runs one statement as the script says.
    func run(_ sql: String, connection: String, thread: UInt64) async throws(ServerError) -> QueryResult {
        func lost() -> ServerError {
            .sql(SQLError(code: 2013, sqlState: "HY000", message: "Lost connection", connection: connection))
        }
        if state.withLock({ $0.dead }) { throw lost() }
        let words = sql.split(separator: " ").map(String.init)
        let number = words.count > 1 ? Int(words[1]) ?? 0 : 0
        if sql == CounterReader.memoryUsedQuery {
            let heap = state.withLock { $0.heap }
            return answer(["Variable_name", "Value"], [["Memory_used", String(heap)]])
        }
        if sql == ServerFacts.query {
            return answer(
                ["Variable_name", "Value"],
                [["version", "10.11.0-MariaDB-fake"], ["version_comment", "fake"], ["max_connections", "151"]]
            )
        }
        if sql.hasPrefix("KILL QUERY") {
            let target = UInt64(words.last ?? "") ?? 0
            state.withLock { _ = $0.killed.insert(target) }
            return answer([], [])
        }
        if let answered = try await replicaAnswer(sql, connection: connection) { return answered }
        if sql.hasPrefix("SHOW") || sql.hasPrefix("SELECT") && connection == "snapctl-observer" {
            return answer(["a", "b"], [])
        }
        state.withLock { $0.statements.append(sql) }
        switch words.first ?? "" {
        case "GROW":
            state.withLock {
                $0.heap += number
                $0.grown += number
            }
            return answer([], [])
        case "ROWS":
            return answer(["n"], (0..<number).map { [String($0)] })
        case "WARN":
            return answer([], [], warnings: UInt32(number))
        case "FAIL":
            throw .sql(
                SQLError(
                    code: UInt32(number),
                    sqlState: words.count > 2 ? words[2] : "HY000",
                    message: "scripted failure",
                    connection: connection,
                    statement: sql
                )
            )
        case "DIE":
            state.withLock { $0.dead = true }
            throw lost()
        case "SLEEP":
            while !state.withLock({ $0.killed.contains(thread) }) {
                try? await Task.sleep(for: .milliseconds(2))
            }
            throw .sql(
                SQLError(
                    code: 1317,
                    sqlState: "70100",
                    message: "Query execution was interrupted",
                    connection: connection
                )
            )
        default:
            return answer([], [])
        }
    }

    /// The massif file a snapshot of the pretend heap would be.
    func massif(_ kind: SnapshotKind, time: Int) -> String {
        let (heap, grown) = state.withLock { ($0.heap, $0.grown) }
        var text = """
            desc: (fake)
            cmd: mariadbd
            time_unit: i
            #-----------
            snapshot=0
            #-----------
            time=\(time)
            mem_heap_B=\(heap)
            mem_heap_extra_B=0
            mem_stacks_B=0

            """
        if kind == .light {
            text += "heap_tree=empty\n"
        } else {
            text += "heap_tree=detailed\n"
            text += "n2: \(heap) (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n"
            text += " n0: \(grown) 0x1000: grow_here (in /usr/sbin/mariadbd)\n"
            text += " n0: \(heap - grown) 0x2000: base (in /usr/sbin/mariadbd)\n"
        }
        return text
    }
}

/// A connection to the ``FakeServer``.
final class FakeConnection: SQLSession {
    let name: String
    let id: UInt64
    let server: FakeServer
    private let closed = Mutex(false)

    init(name: String, threadID: UInt64, server: FakeServer) {
        self.name = name
        self.id = threadID
        self.server = server
    }

    var threadID: UInt64 { id }

    func execute(_ sql: String) async throws(ServerError) -> QueryResult {
        if closed.withLock({ $0 }) { throw .connectionClosed(name: name) }
        return try await server.run(sql, connection: name, thread: id)
    }

    func close() async { closed.withLock { $0 = true } }
}

/// A monitor that writes the fake server's heap as Massif would.
final class FakeMonitor: HeapMonitor {
    let server: FakeServer
    private let count = Mutex(0)
    private let failures = Mutex<[ValgrindError]>([])

    init(server: FakeServer) { self.server = server }

    /// Makes the next snapshot fail with `error`.
    func failNext(_ error: ValgrindError) { failures.withLock { $0.append(error) } }

    var taken: Int { count.withLock { $0 } }

    func snapshot(_ kind: SnapshotKind, to path: String) async throws(ValgrindError) {
        if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        if await server.death() != nil { throw .processEnded(pid: server.pid, end: .exited(status: 9)) }
        server.state.withLock { $0.appliedAtSnapshots.append($0.replication.applied) }
        let time = count.withLock {
            $0 += 1
            return $0 * 1000
        }
        try? server.massif(kind, time: time).write(toFile: path, atomically: true, encoding: .utf8)
    }

    func command(_ text: String) async throws(ValgrindError) -> String { "ok: \(text)" }

    func close() async {}
}

/// A query result with `columns` and `rows`.
func answer(_ columns: [String], _ rows: [[String?]], warnings: UInt32 = 0) -> QueryResult {
    QueryResult(columns: columns, rows: rows, affectedRows: 0, warningCount: warnings, insertID: 0)
}
