import Testing

@testable import Plan

@Suite struct SQLSplitterTests {
    @Test(arguments: [
        ("one statement", "SELECT 1", ["SELECT 1"]),
        ("trailing delimiter", "SELECT 1;", ["SELECT 1"]),
        (
            "two statements", "CREATE TABLE t (a INT);\nINSERT INTO t VALUES (1);\n",
            ["CREATE TABLE t (a INT)", "INSERT INTO t VALUES (1)"]
        ),
        ("empty statements dropped", ";;SELECT 1;;", ["SELECT 1"]),
        ("single quotes", "SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", "SELECT 2"]),
        ("doubled quote", "SELECT 'it''s;'; SELECT 2", ["SELECT 'it''s;'", "SELECT 2"]),
        ("backslash escape", #"SELECT 'a\';b'; SELECT 2"#, [#"SELECT 'a\';b'"#, "SELECT 2"]),
        ("double quotes", #"SELECT "x;y"; SELECT 2"#, [#"SELECT "x;y""#, "SELECT 2"]),
        ("backticks", "SELECT `a;b` FROM t; SELECT 2", ["SELECT `a;b` FROM t", "SELECT 2"]),
        ("dash comment", "SELECT 1 -- not here; no\n; SELECT 2", ["SELECT 1 -- not here; no", "SELECT 2"]),
        ("dashes without space are not a comment", "SELECT 1--1; SELECT 2", ["SELECT 1--1", "SELECT 2"]),
        ("hash comment", "SELECT 1 # a;b\n; SELECT 2", ["SELECT 1 # a;b", "SELECT 2"]),
        ("block comment", "SELECT /* ; */ 1; SELECT 2", ["SELECT /* ; */ 1", "SELECT 2"]),
        (
            "leading comments dropped", "-- load the table\n/* note */\nINSERT INTO t VALUES (1);",
            ["INSERT INTO t VALUES (1)"]
        ),
        ("comment-only text", "-- nothing\n# here\n/* at all */", []),
        (
            "executable comment kept", "/*!40101 SET NAMES utf8 */;\nSELECT 1;",
            ["/*!40101 SET NAMES utf8 */", "SELECT 1"]
        ),
        (
            "delimiter",
            "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END//\nDELIMITER ;\nCALL p();",
            ["CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", "CALL p()"]
        ),
        ("lower-case delimiter", "delimiter $$\nSELECT 1$$\ndelimiter ;\nSELECT 2;", ["SELECT 1", "SELECT 2"]),
        (
            "delimiter word inside a statement", "SELECT 1 AS\ndelimiter; SELECT 2",
            ["SELECT 1 AS\ndelimiter", "SELECT 2"]
        ),
        ("empty text", "", []),
    ])
    func splits(name: String, text: String, statements: [String]) throws {
        #expect(try SQLSplitter.split(text) == statements)
    }

    @Test(arguments: [
        ("SELECT 'abc", 1, 8, "unterminated '-quoted string; close it with '"),
        ("SELECT 1;\nSELECT \"x", 2, 8, "unterminated \"-quoted string; close it with \""),
        ("SELECT `a", 1, 8, "unterminated backtick-quoted name; close it with `"),
        ("SELECT 1;\n  /* open", 2, 3, "unterminated /* comment; close it with */"),
        ("DELIMITER \nSELECT 1", 1, 1, "DELIMITER needs a delimiter, e.g. DELIMITER // (and DELIMITER ; to go back)"),
    ])
    func refuses(text: String, line: Int, column: Int, message: String) {
        #expect(throws: SQLSplitter.SplitError(line: line, column: column, message: message)) {
            try SQLSplitter.split(text)
        }
    }
}
