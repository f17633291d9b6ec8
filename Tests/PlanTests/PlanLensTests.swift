import Foundation
import Testing

@testable import Plan

@Suite("Plan keys of the transient-memory lenses")
struct PlanLensTests {
    @Test func allocationsAtTheTopIsEveryStepsDefaultAndAStepTurnsItOff() throws {
        let plan = try Plan.load(
            yaml: """
                version: 1
                allocations: true
                steps:
                  - {label: a, sql: SELECT 1}
                  - {label: b, sql: SELECT 1, allocations: false}
                  - snap: c
                  - label: d
                    sql: SELECT 1
                    snapshots: {during: 50ms, peak: detailed}
                    budget: {max_peak: 1MiB, max_allocated: 2MiB, max_allocations: 1000, max_growth: 1KiB}
                """,
            fileName: "plan.yaml"
        )
        #expect(plan.allocations)
        #expect(plan.steps.map(\.allocations) == [true, false, false, true])
        #expect(plan.wantsAllocations)
        let d = plan.steps[3]
        #expect(d.snapshots.peak)
        #expect(d.snapshots.during?.milliseconds == 50)
        #expect(
            d.lensBudget
                == Plan.LensBudget(
                    maxPeak: ByteSize(bytes: 1 << 20),
                    maxAllocated: ByteSize(bytes: 2 << 20),
                    maxAllocations: 1000
                )
        )
        #expect(d.maxGrowth == ByteSize(bytes: 1024))
        // Written back and read again, the plan is the same.
        let again = try Plan.load(yaml: try plan.yaml(), fileName: "saved.yaml")
        #expect(again == plan)
        let json = try JSONEncoder().encode(plan)
        #expect(try JSONDecoder().decode(Plan.self, from: json) == plan)
    }

    @Test func aStepAlonePutsTheServerUnderXTreeMemory() throws {
        let plan = try Plan.load(
            yaml: "version: 1\nsteps:\n  - {label: a, sql: SELECT 1, allocations: true}\n  - {label: b, sql: SELECT 1}",
            fileName: "plan.yaml"
        )
        #expect(plan.steps.map(\.allocations) == [true, false])
        #expect(plan.wantsAllocations)
        let none = try Plan.load(yaml: "version: 1\nsteps:\n  - {label: a, sql: SELECT 1}", fileName: "plan.yaml")
        #expect(!none.wantsAllocations)
    }

    @Test(arguments: [
        (
            "peak without during",
            "  - {label: a, sql: SELECT 1, snapshots: {peak: detailed}}",
            "plan.yaml:3:43: 'peak: detailed' in snapshots of step 'a' samples the step with during:; add during: "
                + "100ms (the sampling interval)"
        ),
        (
            "peak with a light before snapshot",
            "  - {label: a, sql: SELECT 1, snapshots: {before: light, during: 10ms, peak: detailed}}",
            "plan.yaml:3:42: 'peak: detailed' in snapshots of step 'a' measures growth over the before snapshot, "
                + "which must be detailed; remove before: light"
        ),
        (
            "a bad peak value",
            "  - {label: a, sql: SELECT 1, snapshots: {during: 10ms, peak: light}}",
            "plan.yaml:3:63: 'peak' in snapshots of step 'a': expected detailed or none, got 'light'"
        ),
        (
            "max_peak without the peak lens",
            "  - {label: a, sql: SELECT 1, budget: {max_peak: 1MiB}}",
            "plan.yaml:3:39: 'max_peak' in budget of step 'a' needs the peak lens; add snapshots: {during: 100ms, "
                + "peak: detailed}"
        ),
        (
            "max_allocated without allocations",
            "  - {label: a, sql: SELECT 1, budget: {max_allocated: 1MiB}}",
            "plan.yaml:3:39: 'max_allocated' in budget of step 'a' needs the allocated lens; add allocations: true"
        ),
        (
            "max_allocations without allocations",
            "  - {label: a, sql: SELECT 1, budget: {max_allocations: 10}}",
            "plan.yaml:3:39: 'max_allocations' in budget of step 'a' needs the allocated lens; add allocations: true"
        ),
        (
            "allocations on a snap step",
            "  - {snap: a, allocations: true}",
            "plan.yaml:3:15: 'allocations' does not apply to a snap step (step 'a'); it goes with sql, sql_file, "
                + "sleep, shell, parallel steps"
        ),
        (
            "allocations that is not a boolean",
            "  - {label: a, sql: SELECT 1, allocations: lots}",
            "plan.yaml:3:44: 'allocations' in step 'a': expected true or false, got 'lots'"
        ),
    ])
    func refusesWhatItCannotDo(name: String, step: String, expected: String) {
        #expect(errorLines("version: 1\nsteps:\n" + step) == [expected], "\(name)")
    }

    @Test func aTopLevelAllocationsThatIsNotABoolean() {
        #expect(
            errorLines("version: 1\nallocations: 3\nsteps: [{snap: a}]")
                == ["plan.yaml:2:14: 'allocations' in the plan: expected true or false, got '3'"]
        )
    }
}
