import Testing

@testable import Plan

@Suite struct PlanWholeServerTests {
    @Test func pagesAsHeapAndServerEnvLoadAndWriteBack() throws {
        let yaml = lines(
            "version: 1",
            "name: pages",
            "server:",
            "  options: [--innodb-buffer-pool-size=96M]",
            "  env: {LD_PRELOAD: /usr/lib/x86_64-linux-gnu/libjemalloc.so.2, MALLOC_CONF: 'narenas:1'}",
            "massif: {pages_as_heap: true, time_unit: B}",
            "steps: [{snap: a}]"
        )
        let plan = try Plan.load(yaml: yaml, fileName: "plan.yaml")
        #expect(plan.massif.pagesAsHeap)
        #expect(
            plan.target.server?.environment == [
                "LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "MALLOC_CONF": "narenas:1",
            ]
        )
        #expect(plan.massif.valgrindOptions == ["--time-unit=B", "--pages-as-heap=yes"])
        let written = try plan.yaml()
        #expect(written.contains("pages_as_heap: true"))
        #expect(written.contains("LD_PRELOAD: /usr/lib/x86_64-linux-gnu/libjemalloc.so.2"))
        #expect(try Plan.load(yaml: written, fileName: "again.yaml") == plan)
    }

    @Test func defaultsAreHeapModeAndNoEnvironment() throws {
        let plan = try Plan.load(yaml: "version: 1\nsteps: [{snap: a}]", fileName: "plan.yaml")
        #expect(!plan.massif.pagesAsHeap)
        #expect(plan.target.server?.environment == [:])
        #expect(plan.massif.valgrindOptions == ["--time-unit=B"])
        #expect(!(try plan.yaml()).contains("pages_as_heap"))
    }

    /// Bytes are snapshot time unless the plan asks for another unit; Massif's own default (`i`) is then
    /// left to Massif, and a plan written back keeps the choice, so that a bundle replays with it.
    @Test func timeUnitDefaultsToBytesAndInstructionsAreKept() throws {
        let plain = try Plan.load(yaml: "version: 1\nsteps: [{snap: a}]", fileName: "plan.yaml")
        #expect(plain.massif.timeUnit == .bytes)
        #expect(!(try plain.yaml()).contains("time_unit"))

        let counted = try Plan.load(
            yaml: "version: 1\nmassif: {time_unit: i}\nsteps: [{snap: a}]",
            fileName: "plan.yaml"
        )
        #expect(counted.massif.timeUnit == .instructions)
        #expect(counted.massif.valgrindOptions == [])
        let written = try counted.yaml()
        #expect(written.contains("time_unit: i"))
        #expect(try Plan.load(yaml: written, fileName: "again.yaml") == counted)

        let clocked = try Plan.load(
            yaml: "version: 1\nmassif: {time_unit: ms}\nsteps: [{snap: a}]",
            fileName: "plan.yaml"
        )
        #expect(clocked.massif.valgrindOptions == ["--time-unit=ms"])
    }

    @Test func badValuesAreErrorsWithPositions() {
        #expect(
            errorLines("version: 1\nmassif: {pages_as_heap: maybe}\nsteps: [{snap: a}]") == [
                "plan.yaml:2:25: 'pages_as_heap' in massif: expected true or false, got 'maybe'"
            ]
        )
        #expect(
            errorLines("version: 1\nserver: {env: [LD_PRELOAD]}\nsteps: [{snap: a}]").first?.contains(
                "'env' in server: expected a mapping like {LD_PRELOAD:"
            ) == true
        )
        #expect(
            errorLines("version: 1\nserver: {env: {1BAD: x}}\nsteps: [{snap: a}]") == [
                "plan.yaml:2:16: 'env' in server: '1BAD' is not an environment variable name; use letters, digits "
                    + "and '_', not starting with a digit (e.g. LD_PRELOAD)"
            ]
        )
        #expect(
            errorLines("version: 1\nserver: {env: {MYSQL_PWD: secret}}\nsteps: [{snap: a}]").first?.contains(
                "MYSQL_PWD holds a password, and a plan never contains one"
            ) == true
        )
        #expect(
            errorLines("version: 1\nmassif: {options: [--pages-as-heap=yes]}\nsteps: [{snap: a}]").first?.contains(
                "write pages_as_heap: true instead"
            ) == true
        )
        for stop in ["exit", "startup,exit", "all"] {
            #expect(
                errorLines("version: 1\nmassif: {options: [\"--vgdb-stop-at=\(stop)\"]}\nsteps: [{snap: a}]") == [
                    "plan.yaml:2:19: 'options' in massif has --vgdb-stop-at=\(stop): valgrind would wait at the "
                        + "server's exit for a debugger, and snapctl, which stops the server itself, would have to "
                        + "kill it and lose Massif's final file; leave exit out (startup is fine)"
                ]
            )
        }
        #expect(errorLines("version: 1\nmassif: {options: [--vgdb-stop-at=startup]}\nsteps: [{snap: a}]").isEmpty)
        // The last of a repeated option is the one valgrind takes.
        #expect(
            errorLines(
                "version: 1\nmassif: {options: [--vgdb-stop-at=exit, --vgdb-stop-at=startup]}\nsteps: [{snap: a}]"
            ).isEmpty
        )
        #expect(
            errorLines(
                "version: 1\nmassif: {options: [--vgdb-stop-at=startup, --vgdb-stop-at=all]}\nsteps: [{snap: a}]"
            ).count == 1
        )
        #expect(
            errorLines("version: 1\nmassif: {pages_as_hep: true}\nsteps: [{snap: a}]") == [
                "plan.yaml:2:10: unknown key 'pages_as_hep' in massif; did you mean 'pages_as_heap'?"
            ]
        )
    }
}
