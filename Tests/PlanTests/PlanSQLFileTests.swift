import Testing

@testable import Plan

/// `sql_file:` steps resolved through an injected reader, so the tests touch no disk.
@Suite struct PlanSQLFileTests {
    struct MissingFile: Error, CustomStringConvertible {
        var path: String
        var description: String { "no such file '\(path)'" }
    }

    static let files: [String: String] = [
        "load.sql": "-- fill t\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES ('a;b');\n",
        "empty.sql": "-- nothing yet\n",
        "broken.sql": "SELECT 1;\nSELECT 'open",
    ]

    static let options = Plan.LoadOptions(readFile: { path in
        guard let text = files[path] else { throw MissingFile(path: path) }
        return text
    })

    @Test func readsAndSplitsTheFile() throws {
        let plan = try Plan.load(
            yaml: "version: 1\nsteps: [{label: load, sql_file: load.sql}]",
            fileName: "plan.yaml",
            options: Self.options
        )
        let expected = ["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES ('a;b')"]
        #expect(plan.steps[0].kind == .sqlFile(Plan.SQLFile(path: "load.sql", statements: expected)))
        #expect(plan.steps[0].statements == expected)
        #expect(plan.inliningSQLFiles().steps[0].kind == .sql(statements: expected))
    }

    @Test func leavesTheFileUnreadWithoutAReader() throws {
        let plan = try Plan.load(
            yaml: "version: 1\nsteps: [{label: load, sql_file: missing.sql}]",
            fileName: "plan.yaml"
        )
        #expect(plan.steps[0].kind == .sqlFile(Plan.SQLFile(path: "missing.sql", statements: nil)))
        #expect(plan.steps[0].statements == [])
    }

    @Test(arguments: [
        (
            "missing.sql",
            "plan.yaml:4:5: cannot read sql_file 'missing.sql' of step 'load': no such file 'missing.sql'; the path is "
                + "relative to the plan file"
        ),
        (
            "empty.sql",
            "plan.yaml:4:5: sql_file 'empty.sql' of step 'load' has no statements; add some or remove the step"
        ),
        (
            "broken.sql",
            "plan.yaml:4:5: sql_file 'broken.sql' of step 'load': broken.sql:2:8: unterminated '-quoted string; close it "
                + "with '"
        ),
    ])
    func pointsAtTheSQLFileKey(path: String, expected: String) {
        let yaml = lines("version: 1", "steps:", "  - label: load", "    sql_file: \(path)")
        #expect(errorLines(yaml, options: Self.options) == [expected])
    }
}
