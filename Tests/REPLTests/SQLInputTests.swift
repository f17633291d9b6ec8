import Testing

@testable import REPL

@Suite("where typed statements end")
struct SQLInputTests {
    static let cases: [(String, [String], String)] = [
        ("SELECT 1;", ["SELECT 1"], ""),
        ("SELECT 1", [], "SELECT 1"),
        ("SELECT ';';", ["SELECT ';'"], ""),
        (#"SELECT "a;b";"#, [#"SELECT "a;b""#], ""),
        ("SELECT `we;ird` FROM t;", ["SELECT `we;ird` FROM t"], ""),
        (#"SELECT 'it\'s;'; SELECT 2"#, [#"SELECT 'it\'s;'"#], "SELECT 2"),
        ("SELECT 1 -- no; end\n;", ["SELECT 1 -- no; end"], ""),
        ("SELECT 1 # no; end\n;", ["SELECT 1 # no; end"], ""),
        ("SELECT 1 /* ; */ + 1;", ["SELECT 1 /* ; */ + 1"], ""),
        ("SELECT 1--1;", ["SELECT 1--1"], ""),
        (";;SELECT 1;;", ["SELECT 1"], ""),
        ("SELECT 'open", [], "SELECT 'open"),
    ]

    @Test(arguments: cases)
    func scans(text: String, statements: [String], rest: String) {
        let scanned = SQLInput.scan(text)
        #expect(scanned.statements == statements)
        #expect(scanned.rest == rest)
    }

    @Test func saysWhenTheRestIsOpen() {
        #expect(SQLInput.scan("SELECT 'a").state == .quoted("'"))
        #expect(SQLInput.scan("SELECT 1 /* a").state == .blockComment)
        #expect(SQLInput.scan("SELECT 1 -- a").state == .lineComment)
        #expect(SQLInput.scan("SELECT 1").state == .code)
        #expect(SQLInput.scan("SELECT 'a").state.isOpen)
        #expect(!SQLInput.scan("SELECT 1 -- a").state.isOpen)
    }

    @Test(arguments: [
        ("SELECT 1", true), ("-- x", false), ("# x", false), ("/* x */", false), ("  \n ", false),
        ("/*! SELECT 1 */", true), ("/* x */ SELECT", true),
    ])
    func knowsCodeFromComments(text: String, hasCode: Bool) {
        #expect(SQLInput.hasCode(text) == hasCode)
    }
}
