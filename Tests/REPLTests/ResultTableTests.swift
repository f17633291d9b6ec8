import Testing

@testable import REPL

@Suite("result sets as aligned tables")
struct ResultTableTests {
    @Test func drawsAllRowsAndTheCount() {
        let table = ResultTable(columns: ["id", "name", "note"], rows: [["1", "alpha", nil], ["20", "b", "x"]])
        let expected = """
            +----+-------+------+
            | id | name  | note |
            +----+-------+------+
            |  1 | alpha | NULL |
            | 20 | b     | x    |
            +----+-------+------+
            (2 rows)

            """
        #expect(table.render(limit: 20) == expected)
    }

    @Test func drawsTheFirstRowsOnly() {
        let rows: [[String?]] = (1...25).map { [String($0)] }
        let text = ResultTable(columns: ["n"], rows: rows).render(limit: 20)
        #expect(text.hasSuffix("| 20 |\n+----+\n(25 rows, the first 20 shown)\n"))
        #expect(!text.contains("| 21 |"))
    }

    @Test func saysOneRowAndNoRows() {
        #expect(ResultTable(columns: ["a"], rows: [["x"]]).render(limit: 5).hasSuffix("(1 row)\n"))
        #expect(ResultTable(columns: ["a"], rows: []).render(limit: 5) == "+---+\n| a |\n+---+\n(0 rows)\n")
    }

    @Test func escapesLineBreaksAndCutsLongValues() {
        let long = String(repeating: "x", count: 100)
        let text = ResultTable(columns: ["v"], rows: [["a\nb\tc"], [long]]).render(limit: 5)
        #expect(text.contains("| a\\nb\\tc "))
        #expect(text.contains("| " + String(repeating: "x", count: 57) + "... |"))
    }

    @Test func alignsNumbersRightAndTextLeft() {
        let text = ResultTable(columns: ["n", "t"], rows: [["-1.5", "a"], [nil, "bb"], ["300", nil]]).render(limit: 5)
        #expect(text.contains("| -1.5 | a    |"))
        #expect(text.contains("| NULL | bb   |"))
        #expect(text.contains("|  300 | NULL |"))
    }
}
