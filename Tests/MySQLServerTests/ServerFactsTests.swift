import Foundation
import TestSupport
import Testing
import Valgrind

@testable import MySQLServer

@Suite("Memory envelope")
struct ServerFactsTests {
    @Test("global buffers plus max_connections times the per-session buffers, temporary tables counted once")
    func envelope() {
        let variables: [String: UInt64] = [
            "innodb_buffer_pool_size": 1000, "innodb_log_buffer_size": 100, "key_buffer_size": 10,
            "query_cache_size": 1, "aria_pagecache_buffer_size": 2, "sort_buffer_size": 20, "join_buffer_size": 30,
            "read_buffer_size": 40, "read_rnd_buffer_size": 50, "tmp_table_size": 700, "max_heap_table_size": 600,
            "thread_stack": 5, "net_buffer_length": 6, "binlog_cache_size": 7, "bulk_insert_buffer_size": 8,
            "max_connections": 3,
        ]
        let envelope = MemoryEnvelope(variables: variables)
        #expect(envelope.globalBuffers == 1113)
        #expect(envelope.perSession == 20 + 30 + 40 + 50 + 600 + 5 + 6 + 7 + 8)
        #expect(envelope.maxConnections == 3)
        #expect(envelope.total == 1113 + 3 * 766)
    }

    @Test("missing variables count as zero, and an overflowing product saturates")
    func envelopeEdges() {
        #expect(MemoryEnvelope(variables: [:]).total == 0)
        let huge = MemoryEnvelope(variables: ["sort_buffer_size": UInt64.max / 2, "max_connections": 4])
        #expect(huge.total == UInt64.max)
    }

    @Test("one query reads the identity and the buffers; names in any case, unknown values left out")
    func parse() {
        #expect(ServerFacts.query.hasPrefix("SHOW GLOBAL VARIABLES WHERE Variable_name IN ("))
        for name in ServerFacts.memoryVariables + ["version", "version_comment"] {
            #expect(ServerFacts.query.contains("'\(name)'"))
        }
        let result = QueryResult(
            columns: ["Variable_name", "Value"],
            rows: [
                ["VERSION", "10.11.19-MariaDB-0+deb12u1"], ["version_comment", "Debian 12"],
                ["sort_buffer_size", "2097152"], ["max_connections", "151"], ["key_buffer_size", "not a number"],
                ["thread_stack", nil],
            ],
            affectedRows: 0,
            warningCount: 0,
            insertID: 0
        )
        let facts = ServerFacts.parse(result)
        #expect(facts.version == "10.11.19-MariaDB-0+deb12u1")
        #expect(facts.versionComment == "Debian 12")
        #expect(facts.flavor == .mariadb)
        #expect(facts.variables == ["sort_buffer_size": 2_097_152, "max_connections": 151])
        let mysql = ServerFacts.parse(
            QueryResult(
                columns: ["Variable_name", "Value"],
                rows: [["version", "8.0.36"], ["version_comment", "MySQL Community Server - GPL"]],
                affectedRows: 0,
                warningCount: 0,
                insertID: 0
            )
        )
        #expect(mysql.flavor == .mysql)
        #expect(mysql.variables.isEmpty)
    }

    @Test("the first statement names each variable; its one row reads like the SHOW rows")
    func selected() {
        for name in ServerFacts.factVariables {
            #expect(ServerFacts.selectQuery.contains("@@global.\(name) AS `\(name)`"))
        }
        #expect(ServerFacts.selectQuery.hasPrefix("SELECT @@global."))
        let facts = ServerFacts.parseSelected(
            QueryResult(
                columns: ["version", "version_comment", "sort_buffer_size", "thread_stack", "key_buffer_size"],
                rows: [["10.11.19-MariaDB-0+deb12u1", "Debian 12", "2097152", nil, "not a number"]],
                affectedRows: 1,
                warningCount: 0,
                insertID: 0
            )
        )
        #expect(facts.version == "10.11.19-MariaDB-0+deb12u1")
        #expect(facts.versionComment == "Debian 12")
        #expect(facts.flavor == .mariadb)
        #expect(facts.variables == ["sort_buffer_size": 2_097_152])
        let none = ServerFacts.parseSelected(
            QueryResult(columns: ["version"], rows: [], affectedRows: 0, warningCount: 0, insertID: 0)
        )
        #expect(none.version.isEmpty && none.variables.isEmpty)
    }

    @Test("networking and name resolution: a TCP login matched by host name, in both forms; kept out of the variables")
    func tcpLoginsByName() {
        func selected(_ networking: String?, _ names: String?) -> ServerFacts {
            ServerFacts.parseSelected(
                QueryResult(
                    columns: ["version", "skip_networking", "skip_name_resolve"],
                    rows: [["10.11.19-MariaDB", networking, names]],
                    affectedRows: 1,
                    warningCount: 0,
                    insertID: 0
                )
            )
        }
        #expect(selected("0", "0").resolvesTCPLogins == true)
        #expect(selected("0", "1").resolvesTCPLogins == false)
        #expect(selected("1", "0").resolvesTCPLogins == false)
        #expect(selected(nil, "0").resolvesTCPLogins == nil)
        #expect(selected("0", "maybe").resolvesTCPLogins == nil)
        #expect(selected("0", "0").variables.isEmpty)
        #expect(selected("0", "1").listensOnTCP == true && selected("1", "0").listensOnTCP == false)
        #expect(selected(nil, "0").listensOnTCP == nil)
        let shown = ServerFacts.parse(
            QueryResult(
                columns: ["Variable_name", "Value"],
                rows: [["version", "8.0.36"], ["skip_networking", "OFF"], ["skip_name_resolve", "OFF"]],
                affectedRows: 0,
                warningCount: 0,
                insertID: 0
            )
        )
        #expect(shown.resolvesTCPLogins == true)
        #expect(ServerFacts.query.contains("'skip_networking','skip_name_resolve'"))
    }

    @Test(
        "a server lacking a variable is read with SHOW instead; other errors are not hidden",
        arguments: [(UInt32(1193), true), (UInt32(1238), true), (UInt32(1045), false)]
    )
    func fallback(code: UInt32, fallsBack: Bool) async throws {
        let session = ScriptedSession { (sql: String) throws(ServerError) -> QueryResult in
            if sql == ServerFacts.selectQuery {
                throw ServerError.sql(
                    SQLError(code: code, sqlState: "HY000", message: "no", connection: "t", statement: sql)
                )
            }
            #expect(sql == ServerFacts.query)
            return QueryResult(
                columns: ["Variable_name", "Value"],
                rows: [["version", "8.0.36"], ["max_connections", "151"]],
                affectedRows: 2,
                warningCount: 0,
                insertID: 0
            )
        }
        if fallsBack {
            let facts = try await ServerFacts.read(from: session)
            #expect(facts.version == "8.0.36" && facts.variables == ["max_connections": 151])
            #expect(session.statements == [ServerFacts.selectQuery, ServerFacts.query])
        } else {
            await #expect(throws: ServerError.self) { try await ServerFacts.read(from: session) }
            #expect(session.statements == [ServerFacts.selectQuery])
        }
    }

    @Test("facts round-trip through JSON")
    func codable() throws {
        let facts = ServerFacts(
            version: "10.11.19-MariaDB",
            versionComment: "Debian 12",
            flavor: .mariadb,
            variables: ["sort_buffer_size": 2_097_152, "max_connections": 151]
        )
        let decoded = try JSONDecoder().decode(ServerFacts.self, from: JSONEncoder().encode(facts))
        #expect(decoded == facts)
        #expect(decoded.envelope.total == 151 * 2_097_152)
    }
}

@Suite("Files, FIFOs, logs and ELF symbols")
struct FileFactsTests {
    @Test("vgdb FIFOs are found by pid under a prefix, whatever user and host they name, and removed")
    func vgdbFIFOs() throws {
        let run = try Scratch("fifo")
        defer { run.cleanup() }
        let prefix = run.path + "/vgdb"
        #expect(fifo(4242, prefix) == nil)
        for name in ["from-vgdb-to-4242-by-root-on-host", "to-vgdb-from-4242-by-root-on-host"] {
            #expect(mkfifo("\(prefix)-\(name)", 0o600) == 0)
        }
        FileManager.default.createFile(atPath: "\(prefix)-shared-mem-vgdb-4242-by-root-on-host", contents: Data([0]))
        #expect(mkfifo("\(prefix)-from-vgdb-to-42420-by-???-on-???", 0o600) == 0)
        FileManager.default.createFile(atPath: "\(prefix)-from-vgdb-to-77-by-x-on-y", contents: Data())  // not a FIFO

        #expect(fifo(4242, prefix) == "\(prefix)-from-vgdb-to-4242-by-root-on-host")
        #expect(fifo(77, prefix) == nil)
        #expect(VgdbEndpoint.files(pid: 4242, prefix: prefix).count == 3)
        #expect(VgdbEndpoint.removeStale(pid: 4242, prefix: prefix).count == 3)
        #expect(VgdbEndpoint.files(pid: 4242, prefix: prefix).isEmpty)
        #expect(fifo(42420, prefix) != nil)
    }

    /// The FIFO vgdb writes into for `pid`, as attach finds it.
    func fifo(_ pid: Int32, _ prefix: String) -> String? {
        VgdbEndpoint.scan(prefix: prefix).first { $0.pid == pid }?.toValgrindFIFO
    }

    @Test("a log tail keeps the last lines; a missing log says so")
    func logTail() throws {
        let run = try Scratch("log")
        defer { run.cleanup() }
        let path = run.path + "/server.err"
        try (1...30).map { "line \($0)" }.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let tail = LogTail.read(path, lines: 3)
        #expect(tail.lines == ["line 28", "line 29", "line 30"])
        #expect(tail.lastLine == "line 30")
        #expect(tail.description.contains("last 3 lines of \(path)"))
        let missing = LogTail.read(run.path + "/none")
        #expect(!missing.readable)
        #expect(missing.description.contains("not written"))
    }

    @Test("the installed mariadbd is a stripped ELF file with a build id")
    func elfOfMariadbd() throws {
        let symbols = try #require(ELFSymbols.inspect("/usr/sbin/mariadbd"), "mariadb-server is not installed")
        #expect(symbols.isStripped)
        let buildID = try #require(symbols.buildID)
        #expect(buildID.count == 40)
        #expect(buildID.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        let candidates = symbols.debugFileCandidates(for: "/usr/sbin/mariadbd")
        #expect(candidates.first == "/usr/lib/debug/.build-id/\(buildID.prefix(2))/\(buildID.dropFirst(2)).debug")
    }

    @Test("a test binary built with symbols is not stripped; a text file is not ELF")
    func elfOthers() throws {
        let ownExecutable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let symbols = try #require(ELFSymbols.inspect(ownExecutable))
        #expect(!symbols.isStripped)
        #expect(ELFSymbols.inspect("/etc/hostname") == nil)
        #expect(ELFSymbols.inspect("/nonexistent") == nil)
    }

    @Test("process exits describe signals by name")
    func processExit() {
        #expect(ProcessExit.signaled(9).description == "signal 9 (SIGKILL)")
        #expect(ProcessExit.exited(1).description == "exit status 1")
        #expect(ProcessExit.exited(0).isSuccess)
    }
}

@Suite("Doctor checks")
struct ServerDoctorTests {
    @Test("on this machine: mariadbd found, MariaDB identified, stripped, mariadb-install-db present")
    func installed() async {
        let checks = await ServerDoctor.checks()
        #expect(
            checks.map(\.name) == [
                "server binary", "server flavour and version", "server symbols", "datadir initialiser",
            ]
        )
        #expect(checks[0].status == .pass && checks[0].detail.hasSuffix("mariadbd"))
        #expect(checks[1].status == .pass && checks[1].detail.hasPrefix("MariaDB 10."))
        #expect(checks[2].detail.contains("stripped"))
        if checks[2].status == .warn { #expect(checks[2].fix?.contains("dbgsym") == true) }
        #expect(checks[3].status == .pass && checks[3].detail.hasSuffix("mariadb-install-db"))
    }

    @Test("a missing binary fails with a fix and stops the checks")
    func missing() async {
        let checks = await ServerDoctor.checks(binary: "/nonexistent/mariadbd")
        #expect(checks.count == 1)
        #expect(checks[0].status == .fail)
        #expect(checks[0].fix != nil)
    }

    @Test("a binary that is not a server fails the flavour check")
    func notAServer() async {
        let checks = await ServerDoctor.checks(binary: "/bin/true")
        #expect(checks.map(\.status) == [.pass, .fail])
    }
}

/// A test actor on a ThreadExecutor, to see where its methods run.
actor ThreadProbe {
    nonisolated let executor: ThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    init(_ name: String) { executor = ThreadExecutor(name: name) }
    func currentThread() -> UInt { UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))) }
    func stop() { executor.stop() }
}

@Suite("Dedicated connection threads")
struct ThreadExecutorTests {
    @Test("an actor on a ThreadExecutor always runs on the same thread, one per executor, not the caller's")
    func dedicatedThreads() async {
        let first = ThreadProbe("one")
        let second = ThreadProbe("two")
        let a1 = await first.currentThread()
        let a2 = await first.currentThread()
        let b = await second.currentThread()
        #expect(a1 == a2)
        #expect(a1 != b)
        let callers = await withTaskGroup(of: UInt.self) { group in
            for _ in 0..<4 { group.addTask { UInt(pthread_self()) } }
            return await group.reduce(into: Set<UInt>()) { $0.insert($1) }
        }
        #expect(!callers.contains(a1) && !callers.contains(b))
        await first.stop()
        await second.stop()
    }
}

/// A connection whose answers come from a closure; it records the statements it was sent.
private final class ScriptedSession: SQLSession, @unchecked Sendable {
    let name = "scripted"
    var threadID: UInt64 { 1 }
    private let lock = NSLock()
    private var sent: [String] = []
    private let script: @Sendable (String) throws(ServerError) -> QueryResult

    init(_ script: @escaping @Sendable (String) throws(ServerError) -> QueryResult) { self.script = script }

    var statements: [String] { lock.withLock { sent } }

    func execute(_ sql: String) async throws(ServerError) -> QueryResult {
        lock.withLock { sent.append(sql) }
        return try script(sql)
    }

    func close() async {}
}
