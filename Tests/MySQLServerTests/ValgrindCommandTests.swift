import Foundation
import Testing
import Valgrind

@testable import MySQLServer

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

@Suite("glibc copy thresholds for the program under valgrind")
struct GuestTunablesTests {
    @Test("with nothing set, both thresholds are given")
    func fresh() {
        let value = GuestTunables.merged(with: nil)
        #expect(
            value
                == "glibc.cpu.x86_rep_movsb_threshold=4294967295:glibc.cpu.x86_rep_stosb_threshold=4294967295"
        )
        #expect(GuestTunables.isApplied(value))
        #expect(GuestTunables.merged(with: "") == value)
    }

    @Test("the user's tunables are kept, their own thresholds win, ours are appended")
    func userValuesKept() {
        #expect(
            GuestTunables.merged(with: "glibc.malloc.arena_max=2")
                == "glibc.malloc.arena_max=2:glibc.cpu.x86_rep_movsb_threshold=4294967295:"
                + "glibc.cpu.x86_rep_stosb_threshold=4294967295"
        )
        #expect(
            GuestTunables.merged(with: "glibc.cpu.x86_rep_movsb_threshold=8192")
                == "glibc.cpu.x86_rep_movsb_threshold=8192:glibc.cpu.x86_rep_stosb_threshold=4294967295"
        )
    }

    @Test("a value without both thresholds is not applied")
    func applied() {
        #expect(!GuestTunables.isApplied(nil))
        #expect(!GuestTunables.isApplied("glibc.malloc.arena_max=2"))
        #expect(!GuestTunables.isApplied("glibc.cpu.x86_rep_movsb_threshold=1"))
        #expect(GuestTunables.isApplied("a=1:glibc.cpu.x86_rep_stosb_threshold=1:glibc.cpu.x86_rep_movsb_threshold=1"))
    }

    @Test("the command line shows the variables it runs with, and old records decode without them")
    func commandLine() throws {
        let command = ValgrindCommand(
            valgrind: "/usr/bin/valgrind",
            vgdbPrefix: "/r/vgdb",
            massifOutFile: "/r/massif.out",
            logFile: "/r/valgrind.log",
            program: "/usr/sbin/mariadbd",
            environment: ["GLIBC_TUNABLES": "a=1:b=2"]
        )
        #expect(command.description.hasPrefix("GLIBC_TUNABLES=a=1:b=2 /usr/bin/valgrind --tool=massif "))
        #expect(!command.arguments.contains { $0.contains("GLIBC_TUNABLES") })
        var encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(command)) as? [String: Any] ?? [:]
        encoded["environment"] = nil
        let old = try JSONDecoder().decode(ValgrindCommand.self, from: JSONSerialization.data(withJSONObject: encoded))
        #expect(old.environment.isEmpty)
        #expect(old.program == command.program)
    }
}

@Suite("Reading one variable of another process's environment")
struct ProcessEnvironmentTests {
    @Test("a child's GLIBC_TUNABLES is read from /proc, other variables are not returned, unset is nil")
    func readsOneVariable() throws {
        func child(_ environment: [String: String]) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sleep")
            process.arguments = ["30"]
            process.environment = environment
            try process.run()
            // `run()` can return before the child has exec'd; until then /proc shows the test
            // process's own environment. Wait (bounded) until the child is `sleep`.
            for _ in 0..<5_000 {
                let path = "/proc/\(process.processIdentifier)/cmdline"
                let commandLine = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                if commandLine.hasPrefix("/bin/sleep\u{0}") { break }
                usleep(1_000)
            }
            return process
        }
        let with = try child(["GLIBC_TUNABLES": GuestTunables.merged(with: nil), "SECRET_TOKEN": "x"])
        let without = try child(["PATH": "/bin"])
        defer {
            for process in [with, without] {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        let value = FileIO.environmentValue(pid: with.processIdentifier, name: GuestTunables.variable)
        #expect(value == GuestTunables.merged(with: nil))
        #expect(GuestTunables.isApplied(value))
        #expect(FileIO.environmentValue(pid: without.processIdentifier, name: GuestTunables.variable) == nil)
        #expect(FileIO.environmentValue(pid: Int32.max, name: GuestTunables.variable) == nil)
    }
}
