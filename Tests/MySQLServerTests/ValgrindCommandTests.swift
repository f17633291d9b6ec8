import Testing
import Valgrind

@Suite("Valgrind command line and installation")
struct ValgrindCommandTests {
    let command = ValgrindCommand(
        valgrind: "/usr/bin/valgrind",
        vgdbPrefix: "/run/x/server/vgdb",
        massifOutFile: "/run/x/massif.final.out",
        logFile: "/run/x/logs/valgrind.log",
        massifOptions: ["--depth=40", "--massif-out-file=/elsewhere"],
        program: "/usr/sbin/mariadbd",
        programArguments: ["--no-defaults", "--init-command=SET @a='x y'"]
    )

    @Test("our options come first, then the user's Massif options, then the program and its arguments")
    func argumentOrder() {
        #expect(
            command.arguments == [
                "--tool=massif", "--vgdb=yes", "--vgdb-prefix=/run/x/server/vgdb",
                "--massif-out-file=/run/x/massif.final.out", "--log-file=/run/x/logs/valgrind.log", "--depth=40",
                "--massif-out-file=/elsewhere", "/usr/sbin/mariadbd", "--no-defaults", "--init-command=SET @a='x y'",
            ]
        )
    }

    @Test("the description is a shell command line with unsafe words quoted")
    func description() {
        #expect(
            command.description
                == "/usr/bin/valgrind --tool=massif --vgdb=yes --vgdb-prefix=/run/x/server/vgdb "
                + "--massif-out-file=/run/x/massif.final.out --log-file=/run/x/logs/valgrind.log --depth=40 "
                + "--massif-out-file=/elsewhere /usr/sbin/mariadbd --no-defaults '--init-command=SET @a='\\''x y'\\'''"
        )
    }

    @Test(
        "shell quoting",
        arguments: [
            ("plain", "plain"), ("", "''"), ("a b", "'a b'"), ("it's", "'it'\\''s'"), ("$HOME", "'$HOME'"),
            ("--x=1,2", "--x=1,2"),
        ]
    )
    func quoting(word: String, expected: String) {
        #expect(ValgrindCommand.shellQuote(word) == expected)
    }

    @Test("commands are values: equal when built the same, different when an option differs")
    func values() {
        var other = command
        #expect(other == command)
        other.massifOptions = []
        #expect(other != command)
    }

    @Test(
        "valgrind --version parsing",
        arguments: [
            ("valgrind-3.19.0\n", ValgrindVersion(3, 19, 0)), ("valgrind-3.24.0.GIT", ValgrindVersion(3, 24, 0)),
            ("valgrind-3.22", ValgrindVersion(3, 22, 0)), ("3.23.1", ValgrindVersion(3, 23, 1)),
        ]
    )
    func versionParsing(text: String, expected: ValgrindVersion) {
        #expect(ValgrindVersion(parsing: text) == expected)
    }

    @Test("text without a version is refused", arguments: ["", "valgrind", "valgrind-x.y", "hello world"])
    func versionGarbage(text: String) {
        #expect(ValgrindVersion(parsing: text) == nil)
    }

    @Test("the io_uring workaround applies below 3.23 only")
    func nativeAIOWorkaround() {
        func installation(_ version: ValgrindVersion) -> ValgrindInstallation {
            ValgrindInstallation(valgrind: "/usr/bin/valgrind", vgdb: "/usr/bin/vgdb", version: version)
        }
        #expect(installation(ValgrindVersion(3, 19, 0)).needsNativeAIOWorkaround)
        #expect(installation(ValgrindVersion(3, 22, 9)).needsNativeAIOWorkaround)
        #expect(!installation(ValgrindVersion(3, 23, 0)).needsNativeAIOWorkaround)
        #expect(!installation(ValgrindVersion(4, 0, 0)).needsNativeAIOWorkaround)
        #expect(ValgrindVersion(3, 9, 0) < ValgrindVersion(3, 19, 0))
    }

    @Test("this machine's valgrind and vgdb are found and their version read")
    func locateInstalled() async throws {
        guard case .found(let installation) = await ValgrindInstallation.locate() else {
            Issue.record("valgrind or vgdb is not installed: apt-get install valgrind")
            return
        }
        #expect(installation.valgrind.hasSuffix("/valgrind"))
        #expect(installation.vgdb.hasSuffix("/vgdb"))
        #expect(installation.version >= ValgrindVersion(3, 11, 0))
    }

    @Test("an empty search path finds no valgrind")
    func locateMissing() async {
        let lookup = await ValgrindInstallation.locate(path: "/nonexistent-snapctl-dir")
        #expect(lookup == .valgrindMissing(searchPath: ["/nonexistent-snapctl-dir"]))
    }
}
