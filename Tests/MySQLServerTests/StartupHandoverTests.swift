import Foundation
import Synchronization
import TestSupport
import Testing
import Valgrind

@testable import MySQLServer

/// A launch that keeps its connections for the session: valgrind waits at the server's first instruction
/// while the datadir is prepared, the vgdb monitor that lets it run and the readiness connection are
/// handed over, and whatever is not taken is closed at shutdown.
@Suite("Launch hand-over: valgrind held at startup, monitor and observer kept (integration)", .serialized)
struct StartupHandoverTests {
    @Test("the monitor and the observer opened by the launch work, are taken once, and shutdown is clean")
    func handsOverMonitorAndObserver() async throws {
        let events = EventLog()
        try await withLaunchedServer("handover", keepsConnections: true, events: events) { server, run in
            #expect(server.valgrindCommand.arguments.contains(FlavorAdapter.stopAtStartupOption))
            // The datadir came after valgrind started: the copy overlapped valgrind's own start.
            let order = events.snapshot().compactMap { event -> String? in
                switch event {
                case .started: "started"
                case .datadirFromCache, .initialisingDatadir: "datadir"
                case .ready: "ready"
                default: nil
                }
            }
            #expect(order.first == "started" && order.contains("datadir") && order.last == "ready", "\(order)")
            let valgrindLog = try String(contentsOfFile: server.layout.valgrindLog, encoding: .utf8)
            #expect(valgrindLog.contains("(action at startup) vgdb me"))

            let monitor = try #require(await server.takeStartupMonitor())
            #expect(await server.takeStartupMonitor() == nil)
            let snapshot = run.path + "/held.massif"
            try await monitor.detailedSnapshot(to: snapshot)
            let text = try String(contentsOfFile: snapshot, encoding: .utf8)
            #expect(text.hasPrefix("desc:") && text.contains("heap_tree=detailed"))

            let observer = try #require(await server.takeReadyConnection())
            #expect(await server.takeReadyConnection() == nil)
            #expect(observer.name == ManagedServer.observerName)
            let user = try await observer.execute("SELECT CURRENT_USER()")
            #expect(user.rows.first?.first ?? nil == "root@localhost")
            await observer.close()
            await monitor.close()
        }
    }

    @Test("connections nobody takes are closed at shutdown: SQL shutdown, no vgdb relay left")
    func untakenConnectionsAreClosed() async throws {
        let run = try Scratch("handover-left")
        defer { run.cleanup() }
        var options = LaunchOptions(runDirectory: run.path)
        options.keepsConnections = true
        let server = try await ManagedServer.launch(options)
        let relays = processesMentioning(run.path).filter { $0.contains("vgdb ") || $0.contains("/vgdb ") }
        #expect(!relays.isEmpty, "the startup monitor's vgdb relay should run while the server does")
        let outcome = await server.shutdown()
        #expect(outcome.method == .sqlShutdown)
        #expect(outcome.exit == .exited(0))
        #expect(outcome.massifFinalFilePresent)
        #expect(processesMentioning(run.path).isEmpty, "\(processesMentioning(run.path))")
        #expect(fifos(under: run.path).isEmpty)
    }

    /// Launches a server with `massifOptions`, runs `body` on it, and checks that it then stops with SQL
    /// `SHUTDOWN` and leaves no process or FIFO behind.
    private func withLaunchedServer(
        _ label: String,
        massifOptions: [String] = [],
        keepsConnections: Bool,
        events: EventLog? = nil,
        _ body: (ManagedServer, Scratch) async throws -> Void
    ) async throws {
        let run = try Scratch(label)
        defer { run.cleanup() }
        var options = LaunchOptions(runDirectory: run.path)
        options.keepsConnections = keepsConnections
        options.massifOptions = massifOptions
        options.startupTimeout = .seconds(60)
        let server = try await ManagedServer.launch(options) { events?.append($0) }
        do {
            try await body(server, run)
        } catch {
            _ = await server.shutdown()
            throw error
        }
        let outcome = await server.shutdown()
        #expect(outcome.method == .sqlShutdown)
        #expect(outcome.exit == .exited(0))
        #expect(outcome.processGroupGone)
        #expect(processesMentioning(run.path).isEmpty, "\(processesMentioning(run.path))")
        #expect(fifos(under: run.path).isEmpty)
    }

    /// A light snapshot through `monitor` is written where asked.
    private func expectSnapshot(through monitor: MonitorSession, to path: String) async throws {
        try await monitor.snapshot(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("desc:"))
        await monitor.close()
    }

    @Test("the user's own --vgdb-stop-at=startup: the launch's monitor lets the server run and is handed over")
    func usersOwnStartupHold() async throws {
        try await withLaunchedServer("user-hold", massifOptions: ["--vgdb-stop-at=startup"], keepsConnections: true) {
            server,
            run in
            let arguments = server.valgrindCommand.arguments
            #expect(arguments.filter { $0.hasPrefix("--vgdb-stop-at") } == ["--vgdb-stop-at=startup"], "\(arguments)")
            let monitor = try #require(await server.takeStartupMonitor())
            try await expectSnapshot(through: monitor, to: run.path + "/user-hold.massif")
        }
    }

    @Test("a launch that keeps nothing with the user's --vgdb-error=0: the server runs, no relay stays, vgdb is free")
    func usersHoldWithoutKeeping() async throws {
        try await withLaunchedServer("user-hold-unkept", massifOptions: ["--vgdb-error=0"], keepsConnections: false) {
            server,
            run in
            #expect(await server.takeStartupMonitor() == nil)
            let relays = processesMentioning(run.path).filter { line in
                // "PID: COMMAND ARGS": a vgdb relay, not valgrind's own command line (which names vgdb's prefix).
                let command = line.split(separator: ": ", maxSplits: 1).last?.split(separator: " ").first ?? ""
                return command.split(separator: "/").last == "vgdb"
            }
            #expect(relays.isEmpty, "the startup relay should be closed once the server runs: \(relays)")
            // The lock on the shared file is free: a monitor of the caller's own connects.
            let monitor = try await MonitorSession.connect(pid: server.valgrindPID, prefix: server.layout.vgdbPrefix)
            try await expectSnapshot(through: monitor, to: run.path + "/unkept.massif")
        }
    }

    @Test("a datadir that cannot be made while valgrind waits at startup: the error, and valgrind is gone")
    func failedInitialisationKillsHeldValgrind() async throws {
        let scratch = try Scratch("handover-init")
        defer { scratch.cleanup() }
        // A server directory with the real server and an initialiser that fails.
        let bin = scratch.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let real = try ServerLocator.resolve("mariadbd")
        try FileManager.default.createSymbolicLink(atPath: bin + "/mariadbd", withDestinationPath: real)
        let initialiser = try scratch.write("bin/mariadb-install-db", "#!/bin/sh\necho 'no space left' >&2\nexit 3\n")
        chmod(initialiser, 0o755)
        let run = scratch.path + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        var options = LaunchOptions(runDirectory: run, serverBinary: bin + "/mariadbd")
        options.keepsConnections = true
        options.datadirCache = .disabled
        let started = Mutex<Int32?>(nil)
        do {
            _ = try await ManagedServer.launch(options) { event in
                if case .started(_, let pid) = event { started.withLock { $0 = pid } }
            }
            Issue.record("the launch should fail")
        } catch {
            guard case .datadirInitialisationFailed(_, let exit, let output) = error else {
                Issue.record("unexpected error: \(error)")
                return
            }
            #expect(exit == .exited(3))
            #expect(output.contains("no space left"))
        }
        let pid = try #require(started.withLock { $0 }, "valgrind should have started before the datadir")
        #expect(kill(pid, 0) != 0, "valgrind (pid \(pid)) held at startup should be gone")
        #expect(processesMentioning(run).isEmpty, "\(processesMentioning(run))")
        #expect(fifos(under: run).isEmpty)
    }
}

@Suite("Server identification memo")
struct IdentifyMemoTests {
    @Test("the server's --version runs once for the same file, and again after it changed")
    func identifyRemembers() async throws {
        let scratch = try Scratch("memo-server")
        defer { scratch.cleanup() }
        let binary = try scratch.write(
            "mariadbd",
            "#!/bin/sh\necho run >> '\(scratch.path)/COUNT'\n"
                + "echo '\(scratch.path)/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64'\n"
        )
        chmod(binary, 0o755)
        let memo = VersionMemo(cacheRoot: scratch.path + "/cache")
        func runs() -> Int {
            ((try? String(contentsOfFile: scratch.path + "/COUNT", encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        let first = try await ServerLocator.identify(binary, memo: memo)
        let second = try await ServerLocator.identify(binary, memo: memo)
        #expect(runs() == 1)
        #expect(first == second)
        #expect(second.flavor == .mariadb && second.version.description.hasPrefix("10.11.19"))
        #expect(second.versionLine.contains("Ver 10.11.19-MariaDB"))
        // A new build in place (another size and mtime) is run again.
        try (String(contentsOfFile: binary, encoding: .utf8) + "# rebuilt\n").write(
            toFile: binary,
            atomically: false,
            encoding: .utf8
        )
        _ = try await ServerLocator.identify(binary, memo: memo)
        #expect(runs() == 2)
        // An output that names no server is not remembered: the error comes each time.
        let other = try scratch.write("notaserver", "#!/bin/sh\necho run >> '\(scratch.path)/COUNT'\necho hello\n")
        chmod(other, 0o755)
        for _ in 0..<2 {
            await #expect(throws: ServerError.self) { try await ServerLocator.identify(other, memo: memo) }
        }
        #expect(runs() == 4)
    }
}

@Suite("Readiness probe")
struct ReadinessProbeTests {
    @Test("a socket that accepts but never greets: the wait still ends at its timeout, then the probe goes")
    func silentSocketTimesOut() async throws {
        let scratch = try Scratch("silent")
        defer { scratch.cleanup() }
        let layout = ServerRunLayout(runDirectory: scratch.path)
        try FileManager.default.createDirectory(atPath: layout.serverDirectory, withIntermediateDirectories: true)
        // A listener that never accepts: the kernel completes the connect, no greeting ever comes.
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in layout.socket.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0, "bind \(layout.socket): errno \(errno)")
        #expect(listen(listener, 8) == 0)
        let started = ContinuousClock.now
        do {
            _ = try await ManagedServer.waitUntilReady(
                pid: getpid(),
                layout: layout,
                exitBox: ExitBox(),
                timeout: .milliseconds(500),
                started: started,
                keeping: ManagedServer.observerName,
                progress: { _ in }
            )
            Issue.record("the wait should time out")
        } catch {
            guard case .startupTimedOut(_, let socket, _, _) = error else {
                Issue.record("unexpected error: \(error)")
                close(listener)
                return
            }
            #expect(socket == layout.socket)
        }
        // The attempt's connection still waits in the listener's queue for a greeting: the wait ended
        // without it. Closing the listener then ends the attempt.
        var pending = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pending, 1, 0) == 1, "the probe's connection should still be queued")
        close(listener)
    }
}
