import Foundation
import Massif
import MySQLServer
import Plan
import RunRecord
import Synchronization
import TestSupport
import Testing
import Valgrind

@testable import Report
@testable import Session

@Suite("Transient-memory lenses through a fake server")
struct LensTests {
    @Test("allocations: true dumps around the step; the allocated lens names the sort buffer and its variable")
    func allocatedLens() async throws {
        let harness = EngineHarness()
        let result = try await harness.run(
            """
            allocations: true
            steps:
              - {label: sort, sql: "ALLOC 33554432; GROW 1000"}
              - snap: here
            """
        )
        #expect(result.exitCode == 0)
        #expect(harness.server.state.withLock { $0.startedWithXTree } == true)
        let dumps = harness.monitor.xtreeDumps.withLock { $0 }
        #expect(dumps.count == 2)
        #expect(dumps.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "raw dumps are removed")
        let step = try #require(result.report.steps.first)
        #expect(step.allocatedBytes == 33_554_432 + 1000)
        #expect(step.allocationCalls == 2)
        let top = try #require(step.allocated?.first)
        #expect(top.function.contains("Filesort_buffer::alloc_sort_buffer"))
        #expect(top.bytes == 33_554_432)
        #expect(top.calls == 1)
        #expect(top.variables == ["sort_buffer_size"])
        #expect(step.churn?.count == 2)
        let lenses = try #require(result.step("sort")?.lenses)
        #expect(lenses.allocations == "snapshots/allocated-0001-sort.ms")
        #expect(lenses.variables?["sort_buffer_size"] == 33_554_432)
        #expect(lenses.variables?["max_connections"] == 151)
        #expect(lenses.variablesScope == "session")
        let finding = try #require(step.sizing?.first)
        #expect(
            finding.sentence
                == "allocated 32.0 MiB in Filesort_buffer::alloc_sort_buffer (sort_buffer_size = 32.0 MiB); "
                + "at max_connections = 151 this statement could allocate 4.7 GiB"
        )
        let text = result.report.text()
        #expect(text.contains("allocated while running: 32.0 MiB in 2 allocation calls"))
        #expect(text.contains("[sort_buffer_size]"))
        let json = String(decoding: result.report.jsonData(), as: UTF8.self)
        #expect(json.contains("\"allocated_B\" : 33555432"))
        #expect(json.contains("\"churn\""))
        // The snap step asked for nothing.
        #expect(result.step("here")?.lenses == nil)
    }

    @Test("without allocations the server gets no --xtree-memory and no dump is taken; false on a step turns it off")
    func onlyWhenAsked() async throws {
        let plain = EngineHarness()
        _ = try await plain.run("steps:\n  - {label: a, sql: \"ALLOC 100\"}")
        #expect(plain.server.state.withLock { $0.startedWithXTree } == false)
        #expect(plain.monitor.xtreeDumps.withLock { $0 }.isEmpty)

        let mixed = EngineHarness()
        let result = try await mixed.run(
            """
            allocations: true
            steps:
              - {label: off, sql: "ALLOC 100", allocations: false}
              - {label: on, sql: "ALLOC 200"}
            """
        )
        #expect(mixed.monitor.xtreeDumps.withLock { $0 }.count == 2)
        #expect(result.report.steps[0].allocated == nil)
        #expect(result.report.steps[1].allocatedBytes == 200)

        let stepOnly = EngineHarness()
        _ = try await stepOnly.run("steps:\n  - {label: a, sql: \"ALLOC 1\", allocations: true}")
        #expect(stepOnly.server.state.withLock { $0.startedWithXTree } == true)
    }

    @Test("peak: detailed names the code that held the step's peak, says it is sampled, and names the variable")
    func peakLens() async throws {
        let result = try await EngineHarness().run(
            """
            steps:
              - label: sort
                sql: HOLD 8000000 3
                snapshots: {during: 20ms, peak: detailed}
            """
        )
        #expect(result.exitCode == 0)
        let step = try #require(result.report.steps.first)
        #expect(step.peakGrowth == 8_000_000)
        #expect(step.peakInterval == 20)
        let peakID = try #require(step.peakSnapshot)
        #expect(result.manifest.snapshots.first { $0.id == peakID }?.kind == .detailed)
        let top = try #require(step.peak?.first)
        #expect(top.function.contains("Filesort_buffer::alloc_sort_buffer"))
        #expect(top.bytes == 8_000_000)
        let finding = try #require(step.sizing?.first { $0.lens == "peak" })
        #expect(finding.bytes == 8_000_000)
        #expect(finding.maxConnections == 151)
        #expect(finding.worstCase == Int64(1_208_000_000))
        #expect(
            finding.sentence.hasPrefix(
                "peak +7.6 MiB in Filesort_buffer::alloc_sort_buffer (sort_buffer_size = 32.0 MiB)"
            )
        )
        #expect(finding.sentence.contains("this statement could hold 1.1 GiB"))
        let text = result.report.text()
        #expect(text.contains("sampled every 20 ms, so the true peak may be higher"))
    }

    @Test("a statement faster than the interval: the peak lens says so and shows the allocated lens instead")
    func fasterThanTheInterval() async throws {
        let result = try await EngineHarness().run(
            """
            steps:
              - label: quick
                sql: ALLOC 5000
                allocations: true
                snapshots: {during: 10s, peak: detailed}
            """
        )
        let step = try #require(result.report.steps.first)
        #expect(step.peakGrowth == nil)
        #expect(
            step.peakNote
                == "no sample was taken while the step ran: it finished within the sampling interval (10000 ms); "
                + "what it allocated is shown instead (allocated lens)"
        )
        #expect(step.peak == step.allocated)
        #expect(step.peak?.first?.bytes == 5000)
        #expect(result.report.text().contains("peak: no sample was taken while the step ran"))
    }

    @Test("a during snapshot that fails mid-step: a warning, and the step still reports its lenses")
    func duringSnapshotFails() async throws {
        let harness = EngineHarness()
        // Request 1 is the before snapshot, 2 and 3 are during samples.
        harness.monitor.fail(
            snapshot: 3,
            with: .commandFailed(command: "detailed_snapshot", output: "error", reason: "scripted")
        )
        let result = try await harness.run(
            """
            allocations: true
            steps:
              - label: sort
                sql: HOLD 3000000 4
                snapshots: {during: 20ms, peak: detailed}
            """
        )
        #expect(result.exitCode == 0)
        #expect(
            result.manifest.warnings.contains { $0.contains("during sort") && $0.contains("failed") },
            "\(result.manifest.warnings)"
        )
        let step = try #require(result.report.steps.first)
        #expect(step.allocatedBytes == 3_000_000)
        #expect(step.peakGrowth == 3_000_000)
    }

    @Test("an xtree dump the server refuses (no xtree support): a warning naming the dump, other lenses go on")
    func dumpRefused() async throws {
        let harness = EngineHarness()
        harness.monitor.scriptXTree([
            .commandFailed(command: "xtmemory", output: "--xtree-memory=none", reason: "no xtree memory")
        ])
        let result = try await harness.run(
            """
            allocations: true
            steps:
              - {label: sort, sql: "HOLD 1000000 3", snapshots: {during: 20ms, peak: detailed}}
            """
        )
        #expect(result.exitCode == 0)
        let step = try #require(result.report.steps.first)
        #expect(step.allocated == nil)
        #expect(step.lensProblems?.first?.contains("the before xtree dump failed") == true)
        #expect(step.peakGrowth == 1_000_000)
        #expect(result.manifest.warnings.contains { $0.contains("step 'sort': the before xtree dump failed") })
        #expect(result.report.text().contains("warning: the before xtree dump failed"))
    }

    @Test("the server dying between the two dumps: the step says the allocated lens is missing and why")
    func serverDiesBetweenDumps() async throws {
        let harness = EngineHarness()
        harness.monitor.killServer(beforeXTree: 2)
        let result = try await harness.run(
            """
            allocations: true
            steps:
              - {label: sort, sql: "ALLOC 1000"}
              - {label: later, sql: "ALLOC 1"}
            """
        )
        #expect(result.exitCode == 4)
        let lenses = try #require(result.step("sort")?.lenses)
        #expect(lenses.allocations == nil)
        #expect(lenses.problems?.first?.contains("the server died before the after xtree dump") == true)
        #expect(result.step("later")?.outcome == .notRun)
        #expect(harness.server.state.withLock { $0.stopped })
    }

    @Test("a huge dump is read in chunks, only the lens trees kept")
    func hugeDump() async throws {
        let harness = EngineHarness()
        harness.monitor.padXTree(120_000)
        let sample = harness.server.xtree(padding: 120_000)
        #expect(sample.count > XTreeFileReader.chunkSize, "the dump spans more than one read chunk")
        let result = try await harness.run(
            """
            allocations: true
            steps:
              - {label: sort, sql: "ALLOC 4096"}
            """
        )
        #expect(result.report.steps.first?.allocatedBytes == 4096)

        let scratch = try Scratch("huge")
        defer { scratch.cleanup() }
        let path = scratch.path + "/huge.ms"
        FileManager.default.createFile(atPath: path, contents: Data(sample))
        let kept: Set<XTreeEvent> = [.totalBytes, .totalBlocks]
        let dump = try XTreeFileReader.read(path: path, name: "huge.ms", keeping: kept)
        #expect(dump.events == [.totalBytes, .totalBlocks])
        #expect(dump.tree(.currentBytes) == nil, "the padded curB tree was dropped while streaming")
    }

    @Test("budgets on each lens exit 3 with what was measured")
    func lensBudgets() async throws {
        let result = try await EngineHarness().run(
            """
            allocations: true
            steps:
              - label: sort
                sql: HOLD 2000000 3
                snapshots: {during: 20ms, peak: detailed}
                budget: {max_peak: 1MiB, max_allocated: 1MiB, max_allocations: 0}
              - label: small
                sql: ALLOC 10
                budget: {max_allocated: 1KiB, max_allocations: 5}
            """
        )
        #expect(result.exitCode == 3)
        let failed = result.report.budgets.filter { !$0.passed }.map { "\($0.budget) \($0.step ?? "")" }
        #expect(Set(failed) == ["max_peak sort", "max_allocated sort", "max_allocations sort"])
        let calls = try #require(result.report.budgets.first { $0.budget == "max_allocations" && $0.step == "sort" })
        #expect(calls.measured == 1)
        let text = result.report.text()
        #expect(text.contains("FAIL max_peak of sort: +1.9 MiB (limit 1.0 MiB)"))
        #expect(text.contains("FAIL max_allocations of sort: 1 calls (limit 0)"))
        #expect(text.contains("ok   max_allocations of small: 1 calls (limit 5)"))
    }

    @Test("a valgrind too old for --xtree-memory is an environment problem (exit 2) that says what to do")
    func valgrindTooOld() async throws {
        var harness = EngineHarness()
        harness.startFailure = .xtreeMemoryUnsupported(valgrind: "3.12.0")
        let result = try await harness.run("steps:\n  - {label: a, sql: \"ALLOC 1\", allocations: true}")
        #expect(result.exitCode == 2)
        #expect(result.manifest.outcome.status == .startFailed)
        #expect(
            result.manifest.outcome.message
                == "the plan asks for allocations (the allocated lens), which needs valgrind 3.13 or later for "
                + "--xtree-memory=full; valgrind 3.12.0 is installed; upgrade valgrind or remove allocations: true "
                + "from the plan"
        )
    }

    @Test("report.html: bars and a tree per lens; the peak sample's marker links to the peak tree")
    func html() async throws {
        let harness = EngineHarness()
        let scratch = try Scratch("lens")
        defer { scratch.cleanup() }
        let directory = scratch.run
        let plan = try EngineHarness.plan(
            """
            allocations: true
            steps:
              - label: sort
                sql: HOLD 5000000 3
                snapshots: {during: 20ms, peak: detailed}
            """
        )
        let result = try await Session.run(harness.options(plan, in: directory))
        let page = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
        let peakID = try #require(result.report.steps.first?.peakSnapshot)
        #expect(page.contains("<h4 id=\"allocated-1\">Allocated while running: 4.8 MiB in 1 allocation calls"))
        #expect(page.contains("<h4>What the step allocated, by call path</h4>"))
        #expect(page.contains("<h4>Churn: allocation calls by call path</h4>"))
        #expect(
            page.contains(
                "<h4 id=\"peak-1\">Peak while running: +4.8 MiB over the before snapshot at snapshot \(peakID)</h4>"
            )
        )
        #expect(page.contains("Sampled every 20 ms: a lower bound of the step's true peak."))
        #expect(page.contains("<h4>Allocation tree at the peak sample, change since before-sort</h4>"))
        #expect(page.contains("<a href=\"#peak-1\"><circle"))
        #expect(page.contains("[sort_buffer_size]"))
        #expect(page.contains("at max_connections = 151 this statement could hold"))
    }

    @Test("the step's lenses are emitted after its line, for the session's output")
    func stepLensEvent() async throws {
        let events = EventLog()
        let harness = EngineHarness()
        let scratch = try Scratch("lens")
        defer { scratch.cleanup() }
        let directory = scratch.run
        var options = harness.options(
            try EngineHarness.plan("allocations: true\nsteps:\n  - {label: sort, sql: \"ALLOC 33554432\"}"),
            in: directory
        )
        options.events = { event in events.add(event) }
        _ = try await Session.run(options)
        let lenses = events.lenses
        #expect(lenses.count == 1)
        let lines = RunReport.lensSummary(try #require(lenses.first))
        #expect(
            lines.first?.hasPrefix("allocated 32.0 MiB in 1 calls, most in Filesort_buffer::alloc_sort_buffer") == true
        )
        #expect(lines.contains { $0.contains("(sort_buffer_size = 32.0 MiB)") })
    }
}

/// Collects the lens events of a run.
final class EventLog: Sendable {
    private let reports = Mutex<[StepReport]>([])
    func add(_ event: SessionEvent) {
        if case .stepLenses(let report) = event { reports.withLock { $0.append(report) } }
    }
    var lenses: [StepReport] { reports.withLock { $0 } }
}
