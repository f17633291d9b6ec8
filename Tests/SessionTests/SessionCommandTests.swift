import ArgumentParser
import Foundation
import Session
import TestSupport
import Testing

@testable import SnapctlCLI

/// `snapctl session` refusing bad input before any server starts: exit 1, no run directory.
@Suite("snapctl session: bad plans and bad output directories", .serialized)
struct SessionCommandTests {
    typealias Support = SessionTestSupport

    static let plans: [(name: String, text: String)] = [
        ("malformed YAML", "version: 1\nsteps:\n  - label: a\n   sql: SELECT 1\n"),
        ("an unknown key", "version: 1\nstepz: []\n"),
        ("a wrong type", "version: 1\nsteps:\n  - label: a\n    sql: SELECT 1\n    repeat: many\n"),
        ("duplicate labels", "version: 1\nsteps:\n  - {label: a, sql: SELECT 1}\n  - {label: a, sql: SELECT 2}\n"),
        ("a missing sql_file", "version: 1\nsteps:\n  - {label: a, sql_file: nowhere.sql}\n"),
        ("no steps", "version: 1\nname: empty\n"),
    ]

    @Test(
        "a bad plan is reported with exit 1 and starts no server",
        arguments: SessionCommandTests.plans.map(\.name)
    )
    func badPlan(_ name: String) async throws {
        let text = try #require(Self.plans.first { $0.name == name }?.text)
        let scratch = try Scratch("plan")
        defer { scratch.cleanup() }
        let plan = try scratch.write("plan.yaml", text)
        let status = await Support.exitStatus(["session", plan, "--out", scratch.run])
        #expect(status == 1)
        // Nothing was created: the run directory is made only once the plan is good.
        #expect(!FileManager.default.fileExists(atPath: scratch.run))
        #expect(processesMentioning(scratch.path).isEmpty)
    }

    @Test(
        "plan errors carry the file, line and column",
        arguments: [
            ("duplicate labels", "plan.yaml:4:13: duplicate label"),
            ("malformed YAML", "plan.yaml:4:"),
            ("an unknown key", "plan.yaml:2:1:"),
            ("a missing sql_file", "nowhere.sql"),
            ("no steps", "plan.yaml:"),
        ]
    )
    func planErrorsArePositioned(_ name: String, _ expected: String) throws {
        let text = try #require(Self.plans.first { $0.name == name }?.text)
        let scratch = try Scratch("pos")
        defer { scratch.cleanup() }
        let plan = try scratch.write("plan.yaml", text)
        guard case .failure(let failure) = SessionCommand.readPlan(plan) else {
            Issue.record("\(name) loaded")
            return
        }
        #expect(failure.messages.contains { $0.contains(expected) }, "\(failure.messages)")
        #expect(failure.messages.last?.contains("no server was started") == true)
        #expect(throws: ExitCode(1)) { try SessionCommand.loadPlan(plan) }
        #expect(throws: ExitCode(1)) { try SessionCommand.loadPlan(scratch.path + "/missing.yaml") }
    }

    @Test(
        "an output directory that cannot be written is refused before the server starts",
        arguments: ["/proc/snapctl-cannot-write-here", "FILE/run"]
    )
    func unwritableOutput(_ out: String) async throws {
        let scratch = try Scratch("out")
        defer { scratch.cleanup() }
        let file = try scratch.write("FILE", "a regular file, so nothing can be created below it")
        let target = out.replacingOccurrences(of: "FILE", with: file)
        let plan = try scratch.write("plan.yaml", "version: 1\nsteps:\n  - {label: a, sql: SELECT 1}\n")
        #expect(throws: SessionError.self) { try Session.prepare(runDirectory: target) }
        do {
            _ = try Session.prepare(runDirectory: target)
        } catch {
            #expect(error.description.contains("choose another --out"))
        }
        let status = await Support.exitStatus(["session", plan, "--out", target])
        #expect(status == 1)
        #expect(processesMentioning(scratch.path).isEmpty)
    }

    @Test("a directory that already holds a run is refused")
    func existingRun() async throws {
        let scratch = try Scratch("used")
        defer { scratch.cleanup() }
        try FileManager.default.createDirectory(atPath: scratch.run, withIntermediateDirectories: true)
        _ = try scratch.write("run/manifest.json", "{}")
        #expect(throws: SessionError.runDirectoryInUse(path: scratch.run)) {
            try Session.prepare(runDirectory: scratch.run)
        }
    }

    @Test("snapctl report on a directory without a manifest exits 1")
    func reportWithoutManifest() async throws {
        let scratch = try Scratch("rep")
        defer { scratch.cleanup() }
        #expect(await Support.exitStatus(["report", scratch.path]) == 1)
    }
}
