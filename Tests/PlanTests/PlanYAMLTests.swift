import Foundation
import Testing

@testable import Plan

@Suite struct PlanYAMLTests {
    /// Plans that exercise every key and the values YAML could misread (numbers, booleans, nulls as text).
    static let plans: [(String, Plan)] = [
        ("the design example", designPlanValue),
        ("the embedded default without steps", Plan.embeddedDefault()),
        (
            "every section",
            Plan(
                name: "full",
                description: "multi\nline",
                target: .attach(
                    Plan.Attach(
                        pid: 4242,
                        vgdbPrefix: "/tmp/vgdb pipe",
                        endpoint: .tcp(host: "db", port: 3307),
                        user: "admin",
                        passwordEnv: "MYSQL_PWD"
                    )
                ),
                massif: Plan.MassifSettings(options: ["--depth=40", "--threshold=0.1"], timeUnit: .milliseconds),
                snapshots: Plan.SnapshotDefaults(default: .light),
                observe: [],
                connections: [
                    Plan.Connection(name: "main", user: "root", database: "app"),
                    Plan.Connection(name: "yes", user: "null", database: "123", passwordEnv: "RO_PWD"),
                ],
                budget: Plan.Budget(maxHeap: ByteSize(bytes: 64_000_000)),
                leak: Plan.LeakCheck(minGrowth: ByteSize(bytes: 1 << 20), minRoundsFraction: 0.5),
                steps: [
                    Plan.Step(
                        label: "a",
                        kind: .sql(statements: ["SELECT 1", "SELECT ';'"]),
                        snapshots: .uniform(.light)
                    ),
                    Plan.Step(
                        label: "b",
                        kind: .sql(statements: ["CREATE PROCEDURE p() BEGIN SELECT 1; END"]),
                        snapshots: .uniform(.light)
                    ),
                    Plan.Step(
                        label: "c",
                        kind: .sqlFile(Plan.SQLFile(path: "load.sql")),
                        repeat: 5,
                        snapshots: Plan.StepSnapshots(
                            before: .none,
                            after: .detailed,
                            during: PlanDuration(milliseconds: 250)
                        ),
                        expect: Plan.Expectation(error: .sqlState("42000"), rows: 0, warnings: 1),
                        maxGrowth: ByteSize(bytes: 1024),
                        connection: "yes",
                        timeout: .seconds(90)
                    ),
                    Plan.Step(label: "d", kind: .snap, snapshots: .uniform(.none)),
                    Plan.Step(
                        label: "e",
                        kind: .sleep(PlanDuration(milliseconds: 1500)),
                        snapshots: .uniform(.detailed)
                    ),
                    Plan.Step(label: "true", kind: .shell(command: "echo 'hi': there"), snapshots: .uniform(.light)),
                    Plan.Step(
                        label: "g",
                        kind: .parallel(Plan.Parallel(connections: 3, statements: ["SELECT 1"])),
                        snapshots: .uniform(.light),
                        expect: Plan.Expectation(error: .code(1205))
                    ),
                    Plan.Step(label: "1.5", kind: .sql(statements: ["SELECT\n  2"]), snapshots: .uniform(.light)),
                ]
            )
        ),
    ]

    @Test(arguments: plans)
    func writesYAMLThatLoadsToAnEqualPlan(name: String, plan: Plan) throws {
        let yaml = try plan.yaml()
        let loaded = try Plan.load(yaml: yaml, fileName: "saved.yaml", options: .init(requireSteps: false))
        #expect(loaded == plan, "\(yaml)")
        #expect(try loaded.yaml() == yaml)
    }

    @Test(arguments: plans)
    func encodesToJSONAndBack(name: String, plan: Plan) throws {
        let json = try JSONEncoder().encode(plan)
        #expect(try JSONDecoder().decode(Plan.self, from: json) == plan)
    }

    @Test func writesCompactYAML() throws {
        let plan = try Plan.load(
            yaml: lines(
                "version: 1",
                "name: smoke",
                "steps:",
                "  - {label: one, sql: SELECT 1, budget: {max_growth: 64M}}",
                "  - snap: here",
                "  - {label: nap, sleep: 100ms}"
            ),
            fileName: "plan.yaml"
        )
        let expected = """
            version: 1
            name: smoke
            steps:
            - label: one
              sql: SELECT 1
              budget: {max_growth: 64MiB}
            - snap: here
            - label: nap
              sleep: 100ms

            """
        #expect(try plan.yaml() == expected)
    }

    @Test func encodesJSONInThePlanShape() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let step = Plan.Step(
            label: "bad",
            kind: .sql(statements: ["SELECT * FROM missing"]),
            expect: Plan.Expectation(error: .code(1146))
        )
        #expect(
            String(decoding: try encoder.encode(step), as: UTF8.self)
                == #"{"expect":{"error":1146},"kind":{"sql":["SELECT * FROM missing"]},"label":"bad","on":"server","repeat":1,"#
                + #""snapshots":{"after":"detailed","before":"detailed"}}"#
        )
        let target = Plan.Target.attach(Plan.Attach(pid: 7, endpoint: .socket(path: "/tmp/s")))
        #expect(
            String(decoding: try encoder.encode(target), as: UTF8.self)
                == #"{"attach":{"endpoint":{"socket":"\/tmp\/s"},"pid":7,"user":"root"}}"#
        )
        #expect(
            String(decoding: try encoder.encode([Plan.ExpectedError.sqlState("42S02")]), as: UTF8.self) == #"["42S02"]"#
        )
    }

    @Test func writesDurationsAndSizesAsPlanText() throws {
        let json = try JSONEncoder().encode([PlanDuration(milliseconds: 250)])
        #expect(String(decoding: json, as: UTF8.self) == #"["250ms"]"#)
        let size = try JSONEncoder().encode([ByteSize(bytes: 64 << 20)])
        #expect(String(decoding: size, as: UTF8.self) == #"["64MiB"]"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ByteSize].self, from: Data(#"["64"]"#.utf8)) }
    }
}
