import Testing

@testable import Bundle

@Suite struct RedactorTests {
    static let redactor = Redactor.forMachine(
        hostNames: ["db7", "db7.example.org", "localhost", "x"],
        environment: [
            "API_TOKEN": "tok-0123456789abcdef",
            "LONGER_TOKEN": "tok-0123456789abcdef-and-more",
            "QUOTED_SECRET": "pa\"ss\\word!",
            "SHORT": "abc",
            "DB_PASSWORD": "pw1",
            "SHELL": "/bin/bash",
            "CI_PIPELINE_ID": "319815680",
            "LANG": "C.UTF-8-long-enough",
            "PATH": "/usr/local/bin:/usr/bin",
            "LC_ALL": "en_US.UTF-8",
        ]
    )

    @Test("host names are replaced as words, in any case; generic and one-letter names are left alone")
    func hostNames() {
        let text = "db7.err DB7-bin.000001 host db7.example.org; db70 mydb7 db7_x localhost x"
        #expect(
            Self.redactor.apply(text)
                == "REDACTED_HOST.err REDACTED_HOST-bin.000001 host REDACTED_HOST; db70 mydb7 db7_x localhost x"
        )
    }

    @Test("values of secret variables are replaced anywhere, the longest first; short ones as words")
    func environmentValues() {
        #expect(
            Self.redactor.apply("a=tok-0123456789abcdef-and-more b=xtok-0123456789abcdefx")
                == "a=REDACTED_LONGER_TOKEN b=xREDACTED_API_TOKENx"
        )
        #expect(Self.redactor.apply("login pw1, not pw12") == "login REDACTED_DB_PASSWORD, not pw12")
        // Variables whose names say nothing secret stay, whatever they equal: shells, numbers, paths.
        #expect(
            Self.redactor.apply("abc C.UTF-8-long-enough /usr/local/bin:/usr/bin /bin/bash -c 319815680")
                == "abc C.UTF-8-long-enough /usr/local/bin:/usr/bin /bin/bash -c 319815680"
        )
    }

    @Test("a value is also found as JSON writes it")
    func jsonEscaped() {
        #expect(Self.redactor.apply(#"{"v": "pa\"ss\\word!"}"#) == #"{"v": "REDACTED_QUOTED_SECRET"}"#)
        #expect(Self.redactor.apply(#"raw pa"ss\word!"#) == "raw REDACTED_QUOTED_SECRET")
    }

    @Test("matches names what is left, for the final check")
    func matches() {
        #expect(Self.redactor.matches(in: Array("on db7: tok-0123456789abcdef".utf8)) == ["API_TOKEN", "host name"])
        #expect(Self.redactor.matches(in: Array("nothing here".utf8)).isEmpty)
        #expect(Self.redactor.apply(Array("unchanged".utf8)) == Array("unchanged".utf8))
    }

    @Test("the allow-list: locale, time zone, terminal, PATH, malloc and valgrind settings")
    func allowList() {
        for name in [
            "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "PATH", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES", "VALGRIND_OPTS",
        ] {
            #expect(EnvironmentAllowList.allows(name), "\(name)")
        }
        for name in ["HOME", "USER", "MYSQL_PWD", "AWS_SECRET_ACCESS_KEY", "PWD", "SSH_AUTH_SOCK", "LCX"] {
            #expect(!EnvironmentAllowList.allows(name), "\(name)")
        }
        #expect(EnvironmentAllowList.filter(["TZ": "UTC", "MYSQL_PWD": "secret"]) == ["TZ": "UTC"])
    }
}

@Suite struct SQLLiteralRedactorTests {
    static let cases: [(String, String, [String])] = [
        ("SELECT 1", "SELECT ?", ["1"]),
        (
            "INSERT INTO t1 VALUES (42, 'Alice', \"x\", -3.5e10, .5)", "INSERT INTO t1 VALUES (?, ?, ?, -?, ?)",
            ["42", "Alice", "x", "3.5e10", ".5"]
        ),
        (
            "SELECT * FROM seq_1_to_20000 WHERE c = 'it''s' AND d = 'a\\'b'",
            "SELECT * FROM seq_1_to_20000 WHERE c = ? AND d = ?",
            ["it's", "a'b"]
        ),
        (
            "SELECT `col 1`, `2x`, @v1, @@sort_buffer_size FROM db1.t2",
            "SELECT `col 1`, `2x`, @v1, @@sort_buffer_size FROM db1.t2", []
        ),
        (
            "SELECT X'4D79', 0x1F, 0b101, B'01', N'nat', _utf8mb4'intro'", "SELECT ?, ?, ?, ?, ?, ?",
            ["4D79", "0x1F", "0b101", "01", "nat", "intro"]
        ),
        (
            "SELECT 1 -- the answer is 42\n, 2 # 'not a string'\n",
            "SELECT ? -- the answer is 42\n, ? # 'not a string'\n", ["1", "2"]
        ),
        ("SELECT /* 7 */ 8 /*!50000 , 9 */", "SELECT /* 7 */ ? /*!? , ? */", ["8", "50000", "9"]),
        ("SET SESSION sort_buffer_size = 16777216", "SET SESSION sort_buffer_size = ?", ["16777216"]),
        ("SELECT ?, ? FROM t", "SELECT ?, ? FROM t", []),
        ("CREATE TABLE t (v VARCHAR(200)) ENGINE=MEMORY", "CREATE TABLE t (v VARCHAR(?)) ENGINE=MEMORY", ["200"]),
        ("SELECT 'unterminated", "SELECT ?", ["unterminated"]),
    ]

    @Test("literals become ?, identifiers and comments stay", arguments: cases)
    func redact(_ testCase: (String, String, [String])) {
        #expect(SQLLiteralRedactor.redact(testCase.0) == testCase.1)
        #expect(SQLLiteralRedactor.literals(testCase.0) == testCase.2)
    }

    @Test("log values: long strings anywhere, long numbers as words, short ones not")
    func logValues() {
        let redactor = LiteralRedaction.valueRedactor(["Alice", "12345", "ab", "7"])
        #expect(
            redactor.apply("Duplicate entry 'Alice' for key 12345, not 123456 nor ab or 7")
                == "Duplicate entry '?' for key ?, not 123456 nor ab or 7"
        )
    }
}
