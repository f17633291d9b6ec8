import Foundation
import Plan
import RunRecord
import TestSupport
import Testing

@testable import Session

@Suite("Interactive runs through a fake server")
struct InteractiveTests {
    @Test("a statement returns its rows; a failed one is kept with expect: error; labels stay unique")
    func statements() async throws {
        let harness = EngineHarness()
        let scratch = try Scratch("engine")
        defer { scratch.cleanup() }
        let directory = scratch.run
        let plan = try EngineHarness.plan("steps:\n  - {label: load, sql: \"GROW 100\"}\n")
        guard case .ready(let session) = try await InteractiveSession.start(harness.options(plan, in: directory))
        else {
            Issue.record("the start failed")
            return
        }
        let rows = try await session.execute("ROWS 3").get()
        #expect(rows.result?.rows.count == 3)
        #expect(rows.record.label == "sql-1")
        let failed = try await session.execute("FAIL 1146 42S02").get()
        #expect(failed.record.outcome == .failed)
        #expect(failed.result == nil)
        let first = try await session.runPlanStep("load").get()
        let again = try await session.runPlanStep("load").get()
        #expect(first.record.label == "load")
        #expect(again.record.label == "load-2")
        #expect(again.topSite?.function.contains("grow_here") == true)
        if case .failure(.badLabel(let message)) = await session.snapshot(label: "before-load") {
            #expect(message.contains("already used"))
        } else {
            Issue.record("a taken label was accepted")
        }
        let (saved, leftOut) = await session.performedPlan()
        #expect(leftOut.isEmpty)
        #expect(saved.steps.map(\.label) == ["sql-1", "sql-2", "load", "load-2"])
        #expect(saved.steps[1].expect?.error == .code(1146))
        let result = await session.finish()
        #expect(result.exitCode == 0)
        #expect(result.manifest.steps.count == 4)
        #expect(result.manifest.snapshots.last?.phase == .final)
    }

    @Test("the server dying is seen by the watcher and ends the run with server_died")
    func death() async throws {
        let harness = EngineHarness()
        let scratch = try Scratch("engine")
        defer { scratch.cleanup() }
        let directory = scratch.run
        guard
            case .ready(let session) = try await InteractiveSession.start(
                harness.options(try EngineHarness.plan("", requireSteps: false), in: directory)
            )
        else {
            Issue.record("the start failed")
            return
        }
        let watcher = Task { await session.waitForServerDeath() }
        harness.server.kill()
        #expect(await watcher.value == "the fake server (pid 424242) died")
        if case .failure(.serverGone) = await session.execute("ROWS 1") {} else { Issue.record("ran on a dead server") }
        let result = await session.finish()
        #expect(result.exitCode == 4)
        #expect(result.manifest.outcome.status == .serverDied)
    }
}
