import Testing

@testable import Plan

/// `{snap: LABEL, snapshots: light}`: a light snapshot step (what `snap --light` in the REPL records).
@Suite struct SnapStepKindTests {
    @Test func aSnapStepIsDetailedUnlessItSaysLight() throws {
        let plan = try Plan.load(
            yaml: lines(
                "version: 1",
                "steps:",
                "  - snap: heavy",
                "  - {snap: explicit, snapshots: detailed}",
                "  - {snap: quick, snapshots: light}"
            ),
            fileName: "plan.yaml"
        )
        #expect(plan.steps.map(\.snapshots) == [.uniform(.none), .uniform(.none), .uniform(.light)])
        #expect(plan.steps.map(\.kind) == [.snap, .snap, .snap])
    }

    @Test func aLightSnapStepIsWrittenBackAndLoadsEqual() throws {
        let plan = Plan(
            name: "snaps",
            steps: [
                Plan.Step(label: "heavy", kind: .snap, snapshots: .uniform(.none)),
                Plan.Step(label: "quick", kind: .snap, snapshots: .uniform(.light)),
            ]
        )
        let yaml = try plan.yaml()
        #expect(yaml.contains("- snap: quick\n  snapshots: light\n"))
        #expect(yaml.contains("- snap: heavy\n- snap: quick"))
        #expect(try Plan.load(yaml: yaml, fileName: "saved.yaml") == plan)
    }

    @Test(arguments: [
        ("{snap: a, snapshots: none}", "'none'"),
        ("{snap: a, snapshots: {before: light}}", "a mapping"),
    ])
    func aSnapStepRefusesOtherSnapshots(step: String, got: String) throws {
        do {
            _ = try Plan.load(yaml: lines("version: 1", "steps:", "  - \(step)"), fileName: "plan.yaml")
            Issue.record("\(step) loaded")
        } catch {
            let messages = error.errors.map(\.description)
            #expect(
                messages.contains {
                    $0.hasPrefix("plan.yaml:3:")
                        && $0.contains(
                            "step 'a': a snap step takes snapshots: light or snapshots: detailed, got \(got)"
                        )
                },
                "\(messages)"
            )
        }
    }
}
