import Foundation
import TestSupport
import Testing

@testable import Valgrind

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built snapctl with `arguments`, optionally sending it a signal after a delay.
func runSnapctl(
    _ arguments: [String],
    environment: [String: String]? = nil,
    signal: (number: Int32, after: Duration)? = nil
) async throws -> (status: Int32, stdout: String, stderr: String) {
    let result = try await Programs.run(
        try Programs.requireSnapctl(),
        arguments,
        environment: environment,
        signal: signal
    )
    return (result.status, result.stdout, result.stderr)
}

@Suite("snapctl monitor and doctor, the executable", .serialized)
struct MonitorCommandTests {
    @Test func everyCommandRunsOverOneRelayAndSucceeds() async throws {
        let guest = try await GuestProcess.start()
        let file = guest.directory + "/cli.massif"
        let result = try await runSnapctl([
            "monitor", "--pid", "\(guest.pid)", "--vgdb-prefix", guest.prefix,
            "detailed_snapshot", file, "-c", "v.info", "n_errs_found", "marker-1",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("marker-1"))
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains("heap_tree=detailed"))
    }

    @Test func aFailedCommandMakesTheExitStatusNonZero() async throws {
        // vgdb exits 0 even when Massif could not write the file; snapctl does not.
        let guest = try await GuestProcess.start()
        let result = try await runSnapctl([
            "monitor", "--pid", "\(guest.pid)", "--vgdb-prefix", guest.prefix,
            "snapshot", "/nonexistent-dir/x.massif", "-c", "v.info", "n_errs_found", "after-failure",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("could not open the output file"))
        #expect(result.stdout.contains("after-failure"), "later commands still run")
    }

    @Test func aWrongPidExitsWithAMessageNamingThePrefix() async throws {
        let guest = try await GuestProcess.start()
        let result = try await runSnapctl([
            "monitor", "--pid", "\(getpid())", "--vgdb-prefix", guest.prefix, "help",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("has no vgdb FIFO under prefix \(guest.prefix)"))
    }

    @Test func ctrlCDetachesAndExits130WhileTheTargetRunsOn() async throws {
        let guest = try await GuestProcess.start()
        let result = try await runSnapctl(
            ["monitor", "--pid", "\(guest.pid)", "--vgdb-prefix", guest.prefix, "v.wait", "1500", "-c", "help"],
            signal: (SIGINT, .milliseconds(800))
        )
        #expect(result.status == 130, "\(result.stderr)")
        #expect(guest.isAlive)
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        try await session.snapshot(to: guest.directory + "/after-ctrl-c.massif")
        await session.close()
    }

    @Test func snapctlKilledMidCommandLeavesTheTargetRunning() async throws {
        let guest = try await GuestProcess.start()
        let result = try await runSnapctl(
            ["monitor", "--pid", "\(guest.pid)", "--vgdb-prefix", guest.prefix, "v.wait", "1500"],
            signal: (SIGKILL, .milliseconds(600))
        )
        #expect(result.status == 128 + SIGKILL)
        // vgdb sees end of file on its input, exits, and the gdbserver resumes the process.
        try await Task.sleep(for: .seconds(2))
        #expect(guest.isAlive)
        let session = try await MonitorSession.connect(pid: guest.pid, prefix: guest.prefix)
        try await session.detailedSnapshot(to: guest.directory + "/after-kill.massif")
        await session.close()
        #expect(try heapBytes(guest.directory + "/after-kill.massif") > 0)
    }

    @Test func doctorPassesHereAndFailsWithExit2WithoutValgrind() async throws {
        let ready = try await runSnapctl(["doctor"])
        #expect(ready.status == 0, "\(ready.stdout)\(ready.stderr)")
        #expect(ready.stdout.contains("ptrace attach"))
        let missing = try await runSnapctl(["doctor"], environment: ["PATH": "/nonexistent"])
        #expect(missing.status == 2)
        #expect(missing.stdout.contains("fail  valgrind"))
        #expect(missing.stdout.contains("apt-get install valgrind"))
    }
}

@Suite("ValgrindDoctor rules")
struct ValgrindDoctorTests {
    @Test(arguments: [
        (nil as Int?, false, DoctorCheck.Status.pass),
        (0, false, .pass),
        (1, false, .pass),
        (2, true, .pass),
        (2, false, .fail),
        (3, true, .fail),
    ])
    func yamaScopes(_ scope: Int?, _ capability: Bool, _ expected: DoctorCheck.Status) {
        let check = ValgrindDoctor.yama(scope: scope, hasCapability: capability)
        #expect(check.status == expected)
        if expected == .fail { #expect(check.fix != nil) }
    }

    @Test func realAttachWorksWhereDoctorRuns() async {
        #expect(await ValgrindDoctor.ptraceAttempt().status == .pass)
    }
}
