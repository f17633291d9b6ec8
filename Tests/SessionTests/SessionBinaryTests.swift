import Foundation
import RunRecord
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `snapctl` binary end to end: what it prints, its exit status, and SIGINT.
@Suite("the snapctl binary: session output modes and Ctrl-C (integration)", .serialized)
struct SessionBinaryTests {
    typealias Support = SessionTestSupport

    /// Starts `snapctl ARGS` with stdout and stderr in files.
    static func start(_ arguments: [String], scratch: Scratch) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Programs.requireSnapctl())
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: scratch.path + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.path + "/stderr", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + "/stderr"))
        try process.run()
        return process
    }

    static func wait(_ process: Process) async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
    }

    static func stdout(_ scratch: Scratch) -> String {
        (try? String(contentsOfFile: scratch.path + "/stdout", encoding: .utf8)) ?? ""
    }

    @Test("SIGINT mid-step: exit 130, the last line is the run directory, which is finalised")
    func sigint() async throws {
        let scratch = try Scratch("sigint")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "p.yaml",
            "version: 1\nname: sigint\nsteps:\n  - {label: first, sql: SELECT 1}\n  - {label: long, sql: SELECT SLEEP(600)}\n"
        )
        let process = try Self.start(["session", plan, "--out", scratch.run], scratch: scratch)
        // The first step's line is printed when it ends; the long step starts right after.
        while process.isRunning && !Self.stdout(scratch).contains("[1] first") {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))
        kill(process.processIdentifier, SIGINT)
        await Self.wait(process)
        #expect(process.terminationStatus == 130)
        let lines = Self.stdout(scratch).split(separator: "\n")
        #expect(lines.last.map(String.init) == scratch.run)
        let manifest = try RunChecks.manifest(scratch.run)
        #expect(manifest.outcome.status == .interrupted)
        #expect(manifest.outcome.exitCode == 130)
        #expect(manifest.steps.map(\.outcome) == [.ok, .interrupted])
        try RunChecks.verifyChecksums(scratch.run)
        #expect(processesMentioning(scratch.run).isEmpty)
        #expect(fifos(under: scratch.run).isEmpty)
    }

    @Test("--quiet prints only the run directory; --json prints one object per line ending with it")
    func quietAndJSON() async throws {
        let scratch = try Scratch("modes")
        defer { scratch.cleanup() }
        let plan = try scratch.write(
            "p.yaml",
            "version: 1\nname: modes\nsnapshots: {default: light}\nsteps:\n  - {label: one, sql: SELECT 1}\n"
        )
        let quiet = try Self.start(["session", plan, "--out", scratch.run + "-q", "--quiet"], scratch: scratch)
        await Self.wait(quiet)
        #expect(quiet.terminationStatus == 0)
        #expect(Self.stdout(scratch) == scratch.run + "-q\n")

        let json = try Self.start(["session", plan, "--out", scratch.run + "-j", "--json"], scratch: scratch)
        await Self.wait(json)
        #expect(json.terminationStatus == 0)
        let objects = try Self.stdout(scratch).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.contains { $0["event"] as? String == "step_finished" && $0["label"] as? String == "one" })
        #expect(objects.contains { $0["event"] as? String == "snapshot" })
        let last = try #require(objects.last)
        #expect(last["event"] as? String == "finished")
        #expect(last["run_directory"] as? String == scratch.run + "-j")
        #expect(last["exit_code"] as? Int == 0)

        // `snapctl report RUN` prints the report the session wrote.
        let report = try Self.start(["report", scratch.run + "-j"], scratch: scratch)
        await Self.wait(report)
        #expect(report.terminationStatus == 0)
        #expect(Self.stdout(scratch) == (try String(contentsOfFile: scratch.run + "-j/report.txt", encoding: .utf8)))
    }
}
