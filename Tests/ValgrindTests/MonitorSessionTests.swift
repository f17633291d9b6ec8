import Foundation
import GDBRemote
import Testing

@testable import Valgrind

#if canImport(Glibc)
import Glibc
#endif

/// Against the real thing: valgrind 3.x Massif, vgdb, and a program idle in read() like a server at rest.
@Suite("MonitorSession against valgrind", .serialized)
struct MonitorSessionTests {
    @Test func snapshotsOfEveryKindAreWrittenAndMsPrintReadsThem() async throws {
        let guest = try await GuestProcess.start()
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        let dir = guest.directory
        try await session.snapshot(to: dir + "/light.massif")
        try await session.detailedSnapshot(to: dir + "/detailed.massif")
        try await session.allSnapshots(to: dir + "/all.massif")
        try await session.xtmemory(to: dir + "/xt.kcg")
        await session.close()

        let detailed = try String(contentsOfFile: dir + "/detailed.massif", encoding: .utf8)
        #expect(detailed.contains("heap_tree=detailed"))
        #expect(detailed.contains("allocate_buffers"))
        #expect(try String(contentsOfFile: dir + "/light.massif", encoding: .utf8).contains("heap_tree=empty"))
        #expect(FileManager.default.fileExists(atPath: dir + "/xt.kcg"))
        for file in ["light", "detailed", "all"] {
            let (status, output) = try await runTool("ms_print", [dir + "/\(file).massif"])
            #expect(status == 0, "ms_print rejected \(file).massif: \(output)")
        }
        #expect(try heapBytes(dir + "/detailed.massif") >= 256 * 1024 + 64 * 1024)
        #expect(guest.isAlive)
    }

    @Test func passedSignalsReachTheProgramAndGrowthShowsBetweenSnapshots() async throws {
        let guest = try await GuestProcess.start()
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        try await session.detailedSnapshot(to: guest.directory + "/before.massif")
        guest.send(SIGUSR2)  // passed: the handler runs, no stop
        var grown = false
        for attempt in 0..<50 {
            try await session.snapshot(to: guest.directory + "/after\(attempt).massif")
            let delta =
                try heapBytes(guest.directory + "/after\(attempt).massif")
                - heapBytes(guest.directory + "/before.massif")
            if delta >= 1024 * 1024 {
                grown = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(grown, "the 1 MiB allocated by the SIGUSR2 handler never showed up")
        #expect(await session.warnings.isEmpty)
        await session.close()
    }

    @Test func manyCommandsOverOneRelay() async throws {
        let guest = try await GuestProcess.start()
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        // "vgdb" was looked up on PATH before spawning (no fork per PATH directory).
        let vgdb = try #require(session.vgdbCommandLine.first)
        #expect(vgdb.hasPrefix("/") && vgdb.hasSuffix("/vgdb") && ValgrindInstallation.isExecutableFile(vgdb))
        for i in 0..<30 {
            let output = try await session.raw("v.info n_errs_found token-\(i)")
            #expect(output.contains("token-\(i)"))
        }
        await session.close()
        // After D the gdbserver is reset: a second session connects and works.
        let again = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        #expect(try await again.raw("v.info n_errs_found again").contains("again"))
        await again.close()
    }

    @Test func noSuchProcess() async throws {
        var pid: Int32 = 4_000_000
        while kill(pid, 0) == 0 { pid += 1 }
        await #expect {
            try await MonitorSession.connect(pid: pid, prefix: "/tmp/none")
        } throws: { error in
            guard let error = error as? ValgrindError, case .noSuchProcess = error else { return false }
            return error.description.contains("no process with pid \(pid)")
        }
    }

    @Test func processWithoutFIFONamesThePrefixAndTheValgrindPidsThere() async throws {
        let guest = try await GuestProcess.start()
        let me = getpid()
        await #expect {
            try await MonitorSession.connect(pid: me, prefix: guest.prefix)
        } throws: { error in
            let text = "\(error)"
            return text.contains("pid \(me) has no vgdb FIFO under prefix \(guest.prefix)")
                && text.contains("valgrind pids with FIFOs there: \(guest.pid)") && text.contains("--vgdb=yes")
        }
    }

    @Test func secondClientIsRefusedWhileTheFirstHoldsTheLock() async throws {
        let guest = try await GuestProcess.start()
        let first = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        await #expect {
            try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        } throws: { error in
            guard let error = error as? ValgrindError, case .lockHeld = error else { return false }
            return error.description.contains("another vgdb already speaks with pid \(guest.pid)")
        }
        #expect(try await first.raw("v.info n_errs_found still-mine").contains("still-mine"))
        await first.close()
    }

    @Test func idleProcessThatCannotBeWokenTimesOutWithTheCause() async throws {
        // --max-invoke-ms=0 stops vgdb from using ptrace: exactly what a refused ptrace looks like.
        let guest = try await GuestProcess.start()
        let options = MonitorSession.Options(
            maxInvokeMilliseconds: 0,
            handshakeTimeout: .seconds(2),
            stopTimeout: .seconds(2)
        )
        let started = ContinuousClock.now
        await #expect {
            try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix, options: options)
        } throws: { error in
            guard let error = error as? ValgrindError, case .timedOut(_, _, .handshake, _, _) = error else {
                return false
            }
            return error.description.contains("ptrace is refused") && error.description.contains("within 2 s")
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(guest.isAlive)
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        try await session.snapshot(to: guest.directory + "/after-timeout.massif")
        await session.close()
    }

    @Test func exitWhileConnectedReportsTheStatus() async throws {
        let guest = try await GuestProcess.start(exitStatus: 3)
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        guest.send(SIGUSR1)
        let status = try await guest.waitForExit()
        #expect(status.map { ($0 >> 8) & 0xff } == 3)
        await #expect {
            try await session.snapshot(to: guest.directory + "/late.massif")
        } throws: { error in
            "\(error)".contains("exited with status 3")
        }
        #expect(await session.processEnd == .exited(status: 3))
        await session.close()
        // Massif wrote its final file on the normal exit.
        #expect(FileManager.default.fileExists(atPath: guest.directory + "/massif.final.out"))
    }

    @Test func terminationBySignalWhileConnectedIsReported() async throws {
        let guest = try await GuestProcess.start()
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        guest.send(SIGTERM)  // passed, so the program dies of it instead of stopping
        _ = try await guest.waitForExit()
        _ = await session.waitForRelayExit(timeout: .seconds(5))
        #expect(await session.processEnd == .killed(signal: .term))
        await session.close()
    }

    @Test func processKilledInTheMiddleOfACommand() async throws {
        let guest = try await GuestProcess.start()
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        let pid = guest.pid
        Task {
            try await Task.sleep(for: .milliseconds(700))
            kill(pid, SIGKILL)
        }
        await #expect {
            _ = try await session.raw("v.wait 5000")
        } throws: { error in
            guard let error = error as? ValgrindError, case .connectionClosed(_, .commandReply, _) = error else {
                return false
            }
            return error.description.contains("closed while waiting for the command reply")
        }
        await session.close()
    }

    @Test func commandLongerThanThePacketSizeIsRefusedAndTheSessionGoesOn() async throws {
        let guest = try await GuestProcess.start()
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        await #expect {
            try await session.snapshot(to: "/tmp/" + String(repeating: "a", count: 9000))
        } throws: { error in
            "\(error)".contains("accepts at most 16383")
        }
        try await session.snapshot(to: guest.directory + "/fine.massif")
        await session.close()
    }

    @Test(arguments: [
        ("relative.massif", "give an absolute path"),
        ("/tmp/with space.massif", "contains white space"),
        ("", "empty"),
    ])
    func badPathsAreRefusedBeforeSending(_ path: String, _ message: String) async throws {
        let guest = try await GuestProcess.start()
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        await #expect {
            try await session.detailedSnapshot(to: path)
        } throws: { error in
            "\(error)".contains(message)
        }
        await session.close()
    }

    @Test func massifFailuresInTheOutputBecomeErrors() async throws {
        let guest = try await GuestProcess.start()
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        await #expect {
            try await session.detailedSnapshot(to: "/nonexistent-dir/x.massif")
        } throws: { error in
            "\(error)".contains("could not open the output file") && "\(error)".contains("/nonexistent-dir/x.massif")
        }
        await #expect {
            _ = try await session.raw("frobnicate")
        } throws: { error in
            "\(error)".contains("unknown monitor command") && "\(error)".contains("frobnicate")
        }
        #expect(try await session.unchecked("frobnicate").contains("not recognised"))
        await session.close()
    }
}

@Suite("When an unanswered interrupt is sent again")
struct InterruptRetryTests {
    @Test("never inside vgdb's invoker wait: a re-send there restarts it and slows every snapshot")
    func firstRetryComesAfterTheInvokerHadItsChance() {
        // The invoker answers between one and two periods after the interrupt (plus ptrace work).
        for period in [0, 1, 5, 100] {
            let first = MonitorSession.Options.firstInterruptRetry(maxInvokeMilliseconds: period)
            #expect(first > .milliseconds(2 * period + 10), "period \(period) ms")
        }
        #expect(MonitorSession.Options().interruptRetryDelay == .milliseconds(23))
        #expect(MonitorSession.Options(maxInvokeMilliseconds: 100).interruptRetryDelay == .milliseconds(320))
        #expect(MonitorSession.Options(interruptRetryDelay: .milliseconds(5)).interruptRetryDelay == .milliseconds(5))
        // An absurd period cannot overflow the delay.
        #expect(MonitorSession.Options.firstInterruptRetry(maxInvokeMilliseconds: .max) == .milliseconds(180_020))
    }
}
