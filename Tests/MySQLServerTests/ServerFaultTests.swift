import Foundation
import TestSupport
import Testing
import Valgrind

@testable import MySQLServer

/// Faults and bad input: each gets a clear error and leaves no process behind.
extension ServerIntegrationTests {
    @Test("a missing server binary is reported before anything starts")
    func serverBinaryMissing() async throws {
        let run = try Scratch("nobin")
        defer { run.cleanup() }
        await #expect {
            _ = try await ManagedServer.launch(
                LaunchOptions(runDirectory: run.path, serverBinary: "/nonexistent/mariadbd")
            )
        } throws: { error in
            guard case .serverBinaryMissing(let name, _) = error as? ServerError else { return false }
            return name == "/nonexistent/mariadbd" && "\(error)".contains("apt-get install mariadb-server")
        }
    }

    @Test("missing valgrind is reported before anything starts")
    func valgrindMissing() async throws {
        let run = try Scratch("novg")
        defer { run.cleanup() }
        let options = LaunchOptions(
            runDirectory: run.path,
            serverBinary: "/usr/sbin/mariadbd",
            searchPath: "/nonexistent-bin"
        )
        await #expect(throws: ServerError.valgrindMissing(searched: ["/nonexistent-bin"])) {
            _ = try await ManagedServer.launch(options)
        }
        #expect(!FileManager.default.fileExists(atPath: run.path + "/server"))
    }

    @Test("--xtree-memory with a valgrind older than 3.13 is refused before anything starts, saying what to do")
    func xtreeMemoryNeedsValgrind313() async throws {
        let run = try Scratch("oldvg")
        defer { run.cleanup() }
        // A valgrind that says it is 3.12.0 (the release before --xtree-memory), and a vgdb beside it.
        let bin = run.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for (name, body) in [("valgrind", "echo valgrind-3.12.0"), ("vgdb", "exit 0")] {
            let path = bin + "/" + name
            try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        let options = LaunchOptions(
            runDirectory: run.path,
            serverBinary: "/usr/sbin/mariadbd",
            massifOptions: ["--xtree-memory=full"],
            searchPath: bin
        )
        await #expect(throws: ServerError.xtreeMemoryUnsupported(valgrind: "3.12.0")) {
            _ = try await ManagedServer.launch(options)
        }
        #expect(!FileManager.default.fileExists(atPath: run.path + "/server"))
        #expect(
            ServerError.xtreeMemoryUnsupported(valgrind: "3.12.0").description.contains(
                "upgrade valgrind or remove allocations: true from the plan"
            )
        )
    }

    @Test("a socket path too long for sun_path is refused before anything is created")
    func socketPathTooLong() async throws {
        let run = try Scratch("long")
        defer { run.cleanup() }
        let deep = run.path + "/" + String(repeating: "x", count: 100)
        await #expect {
            _ = try await ManagedServer.launch(LaunchOptions(runDirectory: deep))
        } throws: { error in
            guard case .socketPathTooLong(let path, let length, 107) = error as? ServerError else { return false }
            return path == deep + "/server/mysqld.sock" && length > 107
        }
        #expect(!FileManager.default.fileExists(atPath: deep))
    }

    @Test("a failing datadir initialisation shows the initialiser's output")
    func datadirInitialisationFails() async throws {
        let run = try Scratch("init")
        defer { run.cleanup() }
        // A file where the datadir should be: the real mariadb-install-db cannot create it.
        try FileManager.default.createDirectory(atPath: run.path + "/server", withIntermediateDirectories: true)
        try "not a directory".write(toFile: run.path + "/server/data", atomically: true, encoding: .utf8)
        await #expect {
            _ = try await ManagedServer.launch(LaunchOptions(runDirectory: run.path))
        } throws: { error in
            guard case .datadirInitialisationFailed(let command, let exit, let output) = error as? ServerError else {
                return false
            }
            return command.contains("mariadb-install-db") && !exit.isSuccess && !output.isEmpty
                && "\(error)".contains(output)
        }
    }

    @Test("a server that exits during startup is reported with its exit status and error-log tail")
    func exitsDuringStartup() async throws {
        let run = try Scratch("exit")
        defer { run.cleanup() }
        let events = EventLog()
        let error = await #expect(throws: ServerError.self) {
            _ = try await ManagedServer.launch(
                LaunchOptions(runDirectory: run.path, serverOptions: ["--no-such-option"])
            ) {
                events.append($0)
            }
        }
        guard case .exitedDuringStartup(let pid, let exit, let errorLog, _) = error else {
            Issue.record("expected exitedDuringStartup, got \(String(describing: error))")
            return
        }
        #expect(!exit.isSuccess)
        #expect(errorLog.lines.contains { $0.contains("unknown option '--no-such-option'") })
        #expect("\(error!)".contains("--no-such-option"))
        let started = try #require(events.startedPID)
        #expect(pid == started)
        #expect(processesInGroup(started).isEmpty)
        #expect(VgdbEndpoint.files(pid: started, prefix: run.path + "/server/vgdb").isEmpty)
    }

    @Test("a Massif option valgrind rejects is reported with valgrind's own words")
    func badMassifOption() async throws {
        let run = try Scratch("badopt")
        defer { run.cleanup() }
        let error = await #expect(throws: ServerError.self) {
            _ = try await ManagedServer.launch(LaunchOptions(runDirectory: run.path, massifOptions: ["--depth=abc"]))
        }
        guard case .exitedDuringStartup(_, let exit, _, let valgrindLog) = error else {
            Issue.record("expected exitedDuringStartup, got \(String(describing: error))")
            return
        }
        #expect(exit == .exited(1))
        #expect(valgrindLog.lines.contains { $0.contains("Bad option: --depth=abc") })
    }

    @Test("a server that does not answer in time is stopped and reported with its log tails")
    func startupTimeout() async throws {
        let run = try Scratch("slow")
        defer { run.cleanup() }
        let events = EventLog()
        // Under Massif the server needs over a second; half a second is never enough.
        let options = LaunchOptions(runDirectory: run.path, startupTimeout: .milliseconds(500))
        let error = await #expect(throws: ServerError.self) {
            _ = try await ManagedServer.launch(options) { events.append($0) }
        }
        guard case .startupTimedOut(_, let socket, let errorLog, let valgrindLog) = error else {
            Issue.record("expected startupTimedOut, got \(String(describing: error))")
            return
        }
        #expect(socket == run.path + "/server/mysqld.sock")
        #expect("\(error!)".contains("within 0.5 s"))
        #expect(errorLog.path == run.path + "/logs/server.err")
        #expect(valgrindLog.path == run.path + "/logs/valgrind.log")
        let pid = try #require(events.startedPID)
        #expect(processesInGroup(pid).isEmpty)
        #expect(VgdbEndpoint.files(pid: pid, prefix: run.path + "/server/vgdb").isEmpty)
    }

    @Test("cancelling a launch (Ctrl-C) stops the server and leaves no process")
    func cancelledLaunch() async throws {
        let run = try Scratch("cancel")
        defer { run.cleanup() }
        let (started, sink) = AsyncStream<Int32>.makeStream()
        let launch = Task {
            try await ManagedServer.launch(LaunchOptions(runDirectory: run.path)) { event in
                if case .started(_, let pid) = event { sink.yield(pid) }
            }
        }
        var iterator = started.makeAsyncIterator()
        let pid = try #require(await iterator.next())
        launch.cancel()
        let result = await launch.result
        guard case .failure(let error) = result else {
            if case .success(let server) = result { _ = await server.shutdown() }
            Issue.record("the launch was not cancelled")
            return
        }
        #expect(error as? ServerError == .cancelled)
        #expect(processesInGroup(pid).isEmpty)
        #expect(VgdbEndpoint.files(pid: pid, prefix: run.path + "/server/vgdb").isEmpty)
    }

    @Test("a server SIGKILLed mid-session is reported with its signal; shutdown then cleans up")
    func killedMidSession() async throws {
        try await withManagedServer("kill") { server, _ in
            let connection = try await server.connect(name: "main")
            _ = try await connection.execute("SELECT 1")
            #expect(kill(server.valgrindPID, SIGKILL) == 0)
            let sqlError = await #expect(throws: ServerError.self) {
                _ = try await connection.execute("SELECT 2")
            }
            let explained = await server.explain(try #require(sqlError))
            guard case .serverDied(let pid, let exit, _, _) = explained else {
                Issue.record("expected serverDied, got \(explained)")
                return
            }
            #expect(pid == server.valgrindPID)
            #expect(exit == .signaled(SIGKILL))
            #expect("\(explained)".contains("SIGKILL"))
            #expect(await server.waitForExit() == .signaled(SIGKILL))
            await #expect(throws: ServerError.self) { try await server.checkAlive() }

            let outcome = await server.shutdown()
            #expect(outcome.method == .alreadyExited)
            #expect(!outcome.massifFinalFilePresent)
            #expect(outcome.processGroupGone)
            #expect(outcome.removedStaleFiles.contains { $0.contains("-from-vgdb-to-\(server.valgrindPID)-") })
            #expect(VgdbEndpoint.files(pid: server.valgrindPID, prefix: server.vgdbPrefix).isEmpty)
            #expect(processesInGroup(server.processGroupID).isEmpty)
        }
    }

    @Test("shutdown from a cancelled task (Ctrl-C) still stops cleanly and keeps Massif's final file")
    func shutdownWhenCancelled() async throws {
        try await withManagedServer("ctrlc") { server, _ in
            let stopping = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return await server.shutdown()
            }
            let outcome = await stopping.value
            #expect(outcome.method == .sqlShutdown)
            #expect(outcome.massifFinalFilePresent)
            #expect(outcome.processGroupGone)
            #expect(processesInGroup(server.processGroupID).isEmpty)
        }
    }

    @Test("a wrong password gives error 1045 with SQLSTATE 28000")
    func wrongPassword() async throws {
        try await withManagedServer("pw") { server, _ in
            let error = await #expect(throws: ServerError.self) {
                _ = try await server.connect(name: "intruder", user: "root", password: "wrong")
            }
            guard case .sql(let sql) = error else {
                Issue.record("expected an SQL error, got \(String(describing: error))")
                return
            }
            #expect(sql.code == 1045)
            #expect(sql.sqlState == "28000")
            #expect(sql.connection == "intruder")
            #expect(sql.message.contains("Access denied"))
        }
    }

    @Test("an SQL error carries code, SQLSTATE, message and statement; the connection stays usable")
    func sqlError() async throws {
        try await withManagedServer("sqlerr") { server, _ in
            let connection = try await server.connect(name: "main")
            let error = await #expect(throws: ServerError.self) {
                _ = try await connection.execute("SELECT * FROM missing_table")
            }
            guard case .sql(let sql) = error else {
                Issue.record("expected an SQL error")
                return
            }
            #expect(sql.code == 1046 || sql.code == 1146)
            #expect(sql.statement == "SELECT * FROM missing_table")
            #expect(try await connection.execute("SELECT 1 + 1").rows == [["2"]])
            await connection.close()
            await #expect(throws: ServerError.connectionClosed(name: "main")) {
                _ = try await connection.execute("SELECT 1")
            }
        }
    }

    @Test("attach: a live valgrind pid with its FIFO is accepted; the password comes from the named variable")
    func attach() async throws {
        try await withManagedServer("attach") { server, _ in
            let options = AttachOptions(
                pid: server.valgrindPID,
                vgdbPrefix: server.vgdbPrefix,
                target: .socket(path: server.socketPath),
                user: "root",
                passwordEnvironmentVariable: "SNAPCTL_TEST_PASSWORD"
            )
            let attached = try await AttachedServer.attach(options, environment: ["SNAPCTL_TEST_PASSWORD": ""])
            #expect(attached.valgrindPID == server.valgrindPID)
            #expect(attached.vgdbFIFO.contains("-from-vgdb-to-\(server.valgrindPID)-"))
            #expect(attached.flavor == .mariadb)
            let connection = try await attached.connect(name: "attached")
            #expect(try await connection.execute("SELECT 7").rows == [["7"]])
            await connection.close()

            await #expect(throws: ServerError.passwordVariableUnset(name: "SNAPCTL_TEST_PASSWORD")) {
                _ = try await AttachedServer.attach(options, environment: [:])
            }
            let wrong = await #expect(throws: ServerError.self) {
                _ = try await AttachedServer.attach(options, environment: ["SNAPCTL_TEST_PASSWORD": "nope"])
            }
            if case .sql(let sql) = wrong { #expect(sql.code == 1045) } else { Issue.record("expected 1045") }
        }
    }

    @Test("attach to a pid without a vgdb FIFO, or to no process, is refused with advice")
    func attachWithoutFIFO() async throws {
        let run = try Scratch("nofifo")
        defer { run.cleanup() }
        let own = getpid()
        let options = AttachOptions(pid: own, vgdbPrefix: run.path + "/vgdb", target: .socket(path: run.path + "/s"))
        await #expect(throws: ServerError.noVgdbFIFO(pid: own, prefix: run.path + "/vgdb", looked: run.path)) {
            _ = try await AttachedServer.attach(options)
        }
        #expect(ServerError.noVgdbFIFO(pid: 1, prefix: "/p", looked: "/").description.contains("--vgdb=yes"))
        let pidMax = try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)
        let impossible = try #require(Int32(pidMax.trimmingCharacters(in: .whitespacesAndNewlines)))
        await #expect(throws: ServerError.noSuchProcess(pid: impossible)) {
            _ = try await AttachedServer.attach(AttachOptions(pid: impossible, target: .socket(path: "/s")))
        }
    }

    @Test("server facts: version, memory variables and the envelope")
    func facts() async throws {
        try await withManagedServer("facts") { server, _ in
            let connection = try await server.connect(name: "observer")
            let facts = try await ServerFacts.read(from: connection)
            // The fallback statement for servers lacking a variable reads the same facts.
            let shown = ServerFacts.parse(try await connection.execute(ServerFacts.query))
            await connection.close()
            #expect(shown == facts)
            #expect(facts.version.contains("MariaDB"))
            #expect(facts.flavor == .mariadb)
            #expect(facts.variables["innodb_buffer_pool_size"] == 32 * 1024 * 1024)
            #expect(Set(facts.variables.keys) == Set(ServerFacts.memoryVariables))
            #expect(facts.envelope == MemoryEnvelope(variables: facts.variables))
            #expect(facts.envelope.total > facts.envelope.globalBuffers)
            // A managed server listens on its socket only: both statements say so (1/0 and ON/OFF).
            #expect(facts.listensOnTCP == false && facts.resolvesTCPLogins == false)
        }
    }

    @Test("a connection to a socket where no server listens fails with 2002")
    func noServer() async throws {
        let run = try Scratch("nosrv")
        defer { run.cleanup() }
        let error = await #expect(throws: ServerError.self) {
            _ = try await Connection.connect(
                ConnectionOptions(name: "c", target: .socket(path: run.path + "/none.sock"))
            )
        }
        guard case .sql(let sql) = error else {
            Issue.record("expected an SQL error")
            return
        }
        #expect(sql.code == 2002)
        #expect(sql.isConnectionLost)
    }
}

extension EventLog {
    /// The pid from the `.started` event, if one came.
    var startedPID: Int32? {
        snapshot().compactMap { event -> Int32? in
            if case .started(_, let pid) = event { return pid }
            return nil
        }.first
    }
}
