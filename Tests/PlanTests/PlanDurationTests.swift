import Testing

@testable import Plan

@Suite struct PlanDurationTests {
    @Test(
        arguments: [
            ("250ms", 250),
            ("2s", 2000),
            ("1.5s", 1500),
            ("1m", 60000),
            ("1h", 3_600_000),
            ("0s", 0),
            (" 3s ", 3000),
            ("2 s", 2000),
            (".5s", 500),
            ("0.25m", 15000),
        ] as [(String, Int64)]
    )
    func parses(text: String, milliseconds: Int64) throws {
        #expect(try PlanDuration.parse(text).milliseconds == milliseconds)
    }

    @Test(arguments: [
        ("fast", "expected a duration like 250ms or 2s, got 'fast'"),
        ("", "expected a duration like 250ms or 2s, got ''"),
        ("2", "expected a duration like 250ms or 2s, got '2', which has no unit; did you mean '2s'?"),
        ("-1s", "expected a duration like 250ms or 2s, got '-1s', which is negative; durations are 0 or more"),
        (
            "2sec",
            "expected a duration like 250ms or 2s, got '2sec', whose unit 'sec' is unknown; did you mean '2s'?"
        ),
        (
            "5 minutes",
            "expected a duration like 250ms or 2s, got '5 minutes', whose unit 'minutes' is unknown; did you mean '5m'?"
        ),
        (
            "1.5x",
            "expected a duration like 250ms or 2s, got '1.5x', whose unit 'x' is unknown; use one of h, m, s, ms"
        ),
        (
            "0.5ms",
            "expected a duration like 250ms or 2s, got '0.5ms', which is not a whole number of milliseconds or is too long"
        ),
        (
            "99999999999999999h",
            "expected a duration like 250ms or 2s, got '99999999999999999h', which is not a whole number of "
                + "milliseconds or is too long"
        ),
    ])
    func refuses(text: String, message: String) {
        #expect(throws: PlanValueError(message)) { try PlanDuration.parse(text) }
    }

    @Test(
        arguments: [(0, "0s"), (250, "250ms"), (1500, "1500ms"), (2000, "2s"), (120_000, "2m"), (7_200_000, "2h")]
            as [(Int64, String)]
    )
    func writesTheShortestExactSpelling(milliseconds: Int64, text: String) throws {
        let duration = PlanDuration(milliseconds: milliseconds)
        #expect(duration.description == text)
        #expect(try PlanDuration.parse(text) == duration)
    }

    @Test func convertsToSwiftDuration() {
        #expect(PlanDuration(milliseconds: 1500).duration == .milliseconds(1500))
        #expect(PlanDuration.seconds(3) == PlanDuration(milliseconds: 3000))
    }
}
