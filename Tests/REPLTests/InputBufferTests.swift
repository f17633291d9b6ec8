import Testing

@testable import REPL

@Suite("the REPL's input: commands, SQL and mistyped commands")
struct InputBufferTests {
    /// Lines typed one after the other, and what each gave.
    static let sequences: [(String, [String], [[InputBuffer.Item]])] = [
        ("a command", ["snaps"], [[.command(.snaps)]]),
        ("a command in capitals, with a trailing ;", ["SNAPS;"], [[.command(.snaps)]]),
        ("an empty line", ["   "], [[]]),
        ("a statement on one line", ["SELECT 1;"], [[.sql("SELECT 1")]]),
        (
            "a statement over three lines",
            ["SELECT *", "  FROM t", "  WHERE id = 1;"],
            [[], [], [.sql("SELECT *\n  FROM t\n  WHERE id = 1")]]
        ),
        ("two statements on one line", ["SELECT 1; SELECT 2;"], [[.sql("SELECT 1"), .sql("SELECT 2")]]),
        (
            "a statement ended, the next begun",
            ["SELECT 1; SELECT", "2;"],
            [[.sql("SELECT 1")], [.sql("SELECT\n2")]]
        ),
        (
            "a ; inside a string, across lines",
            ["INSERT INTO t VALUES ('a;", "b');"],
            [[], [.sql("INSERT INTO t VALUES ('a;\nb')")]]
        ),
        (
            "a command word inside a statement is SQL",
            ["SELECT", "snap", "FROM t;"],
            [[], [], [.sql("SELECT\nsnap\nFROM t")]]
        ),
        ("a comment line alone does not wait for more", ["-- just a note", "snaps"], [[], [.command(.snaps)]]),
        ("a comment after the statement", ["SELECT 1; -- done", "snaps"], [[.sql("SELECT 1")], [.command(.snaps)]]),
        (
            "an open block comment continues",
            ["/* a", "b */ SELECT 1;"],
            [[], [.sql("/* a\nb */ SELECT 1")]]
        ),
        ("a statement in parentheses", ["(SELECT 1);"], [[.sql("(SELECT 1)")]]),
        ("use NAME switches connections", ["use second"], [[.command(.use(name: "second"))]]),
        ("use db; is SQL", ["use app;"], [[.sql("use app")]]),
        (
            "a mistyped command is refused with the nearest command",
            ["snpa before"],
            [[.error(ReplInputError(message: "unknown command 'snpa'; did you mean 'snap'? (help lists commands)"))]]
        ),
        (
            "a mistyped command with a dash",
            ["save-pln x.yaml"],
            [
                [
                    .error(
                        ReplInputError(
                            message: "unknown command 'save-pln'; did you mean 'save-plan'? (help lists commands)"
                        )
                    )
                ]
            ]
        ),
        ("a word far from any command is sent to the server", ["frobnicate;"], [[.sql("frobnicate")]]),
        ("an SQL keyword near a command is SQL", ["show tables;"], [[.sql("show tables")]]),
        (
            "a command with bad arguments",
            ["diff only-one"],
            [
                [
                    .error(
                        ReplInputError(
                            message:
                                "diff: two snapshot labels are needed (snaps lists them); usage: diff [--allocated] A B [--top N]"
                        )
                    )
                ]
            ]
        ),
    ]

    @Test(arguments: sequences)
    func readsLines(name: String, lines: [String], expected: [[InputBuffer.Item]]) {
        var buffer = InputBuffer()
        var items: [[InputBuffer.Item]] = []
        for line in lines { items.append(buffer.accept(line, connections: ["main", "second"])) }
        #expect(items == expected)
        #expect(!buffer.isContinuing)
    }

    @Test func continuesUntilTheSemicolonAndClearsOnCtrlC() {
        var buffer = InputBuffer()
        #expect(buffer.accept("SELECT 1").isEmpty)
        #expect(buffer.isContinuing)
        // While a statement continues, a command word is part of it.
        #expect(buffer.accept("quit").isEmpty)
        buffer.clear()
        #expect(!buffer.isContinuing)
        #expect(buffer.accept("quit") == [.command(.quit)])
    }

    @Test func runsTheStatementLeftWithoutItsSemicolonAtTheEnd() {
        var buffer = InputBuffer()
        #expect(buffer.accept("SELECT 1;").count == 1)
        #expect(buffer.accept("SELECT").isEmpty)
        #expect(buffer.accept("  2").isEmpty)
        #expect(buffer.finish() == [.sql("SELECT\n  2")])
        #expect(buffer.finish().isEmpty)
    }

    @Test func dropsStatementsOfCommentsOnly() {
        var buffer = InputBuffer()
        #expect(buffer.accept("/* nothing */;").isEmpty)
        #expect(buffer.accept("-- x").isEmpty)
        #expect(buffer.finish().isEmpty)
    }

    @Test(arguments: [
        ("snap x", InputBuffer.Kind.command),
        ("SELECT 1", .sql),
        ("select 1", .sql),
        ("WITH a AS (SELECT 1) SELECT * FROM a", .sql),
        ("/* hint */ SELECT 1", .sql),
        ("# comment", .sql),
        ("stpe load", .mistyped(word: "stpe", suggestion: "step")),
        ("repotr", .mistyped(word: "repotr", suggestion: "report")),
        ("quti", .mistyped(word: "quti", suggestion: "quit")),
        ("set @a = 1", .sql),
        ("x", .sql),
        ("use anything", .command),
        ("use anything;", .sql),
    ])
    func classifies(line: String, kind: InputBuffer.Kind) {
        #expect(InputBuffer.classify(line) == kind)
    }
}
