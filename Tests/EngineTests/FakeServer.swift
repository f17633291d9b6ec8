import Foundation
import GDBRemote
import Massif
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
/// - `ALLOC n`: allocates n bytes in the sort buffer (`Filesort_buffer::alloc_sort_buffer`) and frees them at once.
/// - `HOLD n k`: holds n bytes in the sort buffer until k more snapshots were written (10 s at most), then frees
///   them: a statement the `during` timer samples whatever the machine's load.
/// - `SELECT @@name`: the value of ``State/variables``.
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
        /// Bytes and calls allocated since the start, by frame (what `--xtree-memory=full` counts).
        var allocatedBytes: [String: Int] = [:]
        var allocationCalls: [String: Int] = [:]
        /// Bytes held right now by `HOLD`.
        var held = 0
        /// Snapshot files written so far.
        var snapshotsWritten = 0
        /// Server variables, for `SELECT @@name`.
        var variables: [String: String] = ["max_connections": "151", "sort_buffer_size": "33554432"]
        /// Whether the engine asked for `--xtree-memory=full`.
        var startedWithXTree: Bool?
        /// Replication, when the fake is a replica: see ``FakePrimary``.
        var replication = FakeReplication()
        /// The replica's applied position at each snapshot.
        var appliedAtSnapshots: [Int] = []
        /// What the facts say of `skip_networking` and `skip_name_resolve` (`["0", "0"]`: on TCP, names
        /// resolved); `nil` leaves both columns out.
        var networking: [String]?
        /// The version the facts give.
        var version = "10.11.0-MariaDB-fake"
    }

    static let growFrame = "0x1000: grow_here (in /usr/sbin/mariadbd)"
    static let baseFrame = "0x2000: base (in /usr/sbin/mariadbd)"
    static let sortFrame =
        "0x3000: Filesort_buffer::alloc_sort_buffer(unsigned int, unsigned int) (in /usr/sbin/mariadbd)"

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
        if sql == ServerFacts.selectQuery {
            let (version, networking) = state.withLock { ($0.version, $0.networking) }
            if let networking {
                return answer(
                    ["version", "version_comment", "max_connections", "skip_networking", "skip_name_resolve"],
                    [[version, "fake", "151"] + networking]
                )
            }
            return answer(["version", "version_comment", "max_connections"], [[version, "fake", "151"]])
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
        if sql.hasPrefix("SELECT @@") {
            let name = String(sql.dropFirst("SELECT @@".count))
            let value = state.withLock { $0.variables[name] }
            return answer(["@@" + name], value.map { [[$0]] } ?? [])
        }
        if sql.hasPrefix("SHOW") || sql.hasPrefix("SELECT") && connection == "snapctl-observer" {
            return answer(["a", "b"], [])
        }
        state.withLock { $0.statements.append(sql) }
        switch words.first ?? "" {
        case "GROW":
            state.withLock {
                $0.heap += number
                $0.grown += number
                $0.allocatedBytes[Self.growFrame, default: 0] += number
                $0.allocationCalls[Self.growFrame, default: 0] += 1
            }
            return answer([], [])
        case "ALLOC":
            state.withLock {
                $0.allocatedBytes[Self.sortFrame, default: 0] += number
                $0.allocationCalls[Self.sortFrame, default: 0] += 1
            }
            return answer([], [])
        case "HOLD":
            state.withLock {
                $0.heap += number
                $0.held += number
                $0.allocatedBytes[Self.sortFrame, default: 0] += number
                $0.allocationCalls[Self.sortFrame, default: 0] += 1
            }
            let samples = words.count > 2 ? Int(words[2]) ?? 0 : 0
            let target = state.withLock { $0.snapshotsWritten } + samples
            let limit = ContinuousClock.now + .seconds(10)
            while state.withLock({ $0.snapshotsWritten }) < target, ContinuousClock.now < limit {
                try? await Task.sleep(for: .milliseconds(2))
            }
            state.withLock {
                $0.heap -= number
                $0.held -= number
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
        let (heap, grown, held) = state.withLock {
            $0.snapshotsWritten += 1
            return ($0.heap, $0.grown, $0.held)
        }
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
            text += "n\(held > 0 ? 3 : 2): \(heap) (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n"
            if held > 0 { text += " n0: \(held) \(Self.sortFrame)\n" }
            text += " n0: \(grown) \(Self.growFrame)\n"
            text += " n0: \(heap - grown - held) \(Self.baseFrame)\n"
        }
        return text
    }
}

extension FakeServer {
    /// The xtree memory dump `--xtree-memory=full` would write now, in Massif's format: bytes in use (the pretend
    /// heap), and bytes and calls allocated since the start by frame; nothing freed is tracked. `padding` adds
    /// that many zero-count stacks to the `curB` tree, to make a huge dump.
    func xtree(padding: Int = 0) -> [UInt8] {
        let (heap, grown, held, bytes, calls) = state.withLock {
            ($0.heap, $0.grown, $0.held, $0.allocatedBytes, $0.allocationCalls)
        }
        func node(_ text: String, _ value: Int) -> HeapNode {
            HeapNode(bytes: value, frame: .code(CodeFrame(text: text)!))
        }
        func tree(_ event: XTreeEvent, _ values: [String: Int]) -> HeapTree {
            let children = values.sorted { $0.key < $1.key }.map { node($0.key, $0.value) }
            return HeapTree(top: TopDescription(event), bytes: children.reduce(0) { $0 + $1.bytes }, children: children)
        }
        var current = tree(.currentBytes, [Self.growFrame: grown, Self.baseFrame: heap - grown - held])
        if held > 0 { current.children.append(node(Self.sortFrame, held)) }
        for number in 0..<padding {
            current.children.append(node("0x\(String(0x10_0000 + number, radix: 16)): ??? (in /usr/sbin/mariadbd)", 0))
        }
        let dump = XTreeDump(
            format: .massif,
            command: "mariadbd",
            events: XTreeEvent.allCases,
            trees: [
                .currentBytes: current,
                .currentBlocks: tree(.currentBlocks, [:]),
                .totalBytes: tree(.totalBytes, bytes),
                .totalBlocks: tree(.totalBlocks, calls),
                .freedBytes: tree(.freedBytes, [:]),
                .freedBlocks: tree(.freedBlocks, [:]),
            ]
        )
        return dump.massifFile().serialized()
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

    private let calls = Mutex(0)
    private let failAt = Mutex<[Int: ValgrindError]>([:])

    /// Makes snapshot request number `number` (1-based, counting every request) fail with `error`.
    func fail(snapshot number: Int, with error: ValgrindError) { failAt.withLock { $0[number] = error } }

    func snapshot(_ kind: SnapshotKind, to path: String) async throws(ValgrindError) {
        let call = calls.withLock {
            $0 += 1
            return $0
        }
        if let failure = failAt.withLock({ $0.removeValue(forKey: call) }) { throw failure }
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

    private let xtreeFailures = Mutex<[ValgrindError?]>([])
    private let xtreePadding = Mutex(0)
    private let killBeforeXTree = Mutex(0)
    /// The paths of the xtree dumps written, in order.
    let xtreeDumps = Mutex<[String]>([])

    /// Makes the coming xtree dumps fail (an error) or succeed (`nil`), in order.
    func scriptXTree(_ outcomes: [ValgrindError?]) { xtreeFailures.withLock { $0 = outcomes } }
    /// Pads every xtree dump with `stacks` zero-count stacks.
    func padXTree(_ stacks: Int) { xtreePadding.withLock { $0 = stacks } }
    /// Kills the server just before xtree dump number `number` (1-based).
    func killServer(beforeXTree number: Int) { killBeforeXTree.withLock { $0 = number } }

    func xtmemory(to path: String) async throws(ValgrindError) {
        let number = xtreeDumps.withLock {
            $0.append(path)
            return $0.count
        }
        if killBeforeXTree.withLock({ $0 }) == number { server.kill() }
        let scripted: ValgrindError?? = xtreeFailures.withLock { $0.isEmpty ? .none : .some($0.removeFirst()) }
        if case .some(.some(let failure)) = scripted { throw failure }
        if await server.death() != nil { throw .processEnded(pid: server.pid, end: .exited(status: 9)) }
        let padding = xtreePadding.withLock { $0 }
        FileManager.default.createFile(atPath: path, contents: Data(server.xtree(padding: padding)))
    }

    func close() async {}
}

/// A query result with `columns` and `rows`.
func answer(_ columns: [String], _ rows: [[String?]], warnings: UInt32 = 0) -> QueryResult {
    QueryResult(columns: columns, rows: rows, affectedRows: 0, warningCount: warnings, insertID: 0)
}
