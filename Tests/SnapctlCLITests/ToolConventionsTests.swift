import Foundation
import RunRecord
import TestSupport
import Testing

@testable import SnapctlCLI

/// The conventions of a command-line tool, on the built `snapctl` binary: `--version`, the man pages and
/// completions that `scripts/install-docs` installs, `NO_COLOR`, `doctor --json`.
@Suite("snapctl as a command-line tool", .serialized)
struct ToolConventionsTests {
    static let root = repositoryRoot
    static let snapctl = Programs.snapctl

    /// Runs a program with this environment, `NO_COLOR` left out (the tests set it where they mean it).
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:]
    ) throws
        -> ProgramOutput
    {
        var changes: [String: String?] = ["NO_COLOR": nil]
        for (key, value) in environment { changes[key] = value }
        return try Programs.run(executable, arguments, environment: Programs.environment(changes))
    }

    @Test func versionOnTheRootCommand() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.snapctl), "build snapctl first (scripts/setup)")
        let plain = try Self.run(Self.snapctl, ["--version"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout == "snapctl \(SnapctlVersion.current)\n")
        let verbose = try Self.run(Self.snapctl, ["--version", "--verbose"])
        #expect(verbose.status == 0, "\(verbose.stderr)")
        let lines = verbose.stdout.split(separator: "\n")
        #expect(lines.first == "snapctl \(SnapctlVersion.current)")
        #expect(lines.contains { $0.hasPrefix("valgrind 3.") }, "\(verbose.stdout)")
        #expect(lines.contains { $0.hasPrefix("server MariaDB ") && $0.contains("mariadbd") }, "\(verbose.stdout)")
        let missing = try Self.run(Self.snapctl, ["--version", "--verbose", "--binary", "/nonexistent/mysqld"])
        #expect(missing.stdout.contains("server '/nonexistent/mysqld': server binary '/nonexistent/mysqld' not found"))
        // Without --version the root command prints its help, which documents completions and NO_COLOR.
        let help = try Self.run(Self.snapctl, [])
        #expect(help.stdout.contains("--generate-completion-script") || help.stdout.contains("completion"))
        #expect(help.stdout.contains("NO_COLOR"))
    }

    @Test func installDocsWritesManPagesAndCompletions() throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("snapctl-docs-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let result = try Self.run(Self.root + "/scripts/install-docs", [prefix])
        #expect(result.status == 0, "install-docs failed: \(result.stderr)")
        let man = prefix + "/share/man/man1"
        let pages = (try? FileManager.default.contentsOfDirectory(atPath: man)) ?? []
        #expect(pages.contains("snapctl.1"), "\(pages)")
        #expect(pages.contains { $0.contains("massif") && $0.contains("fold") }, "no page for massif fold: \(pages)")
        let main = try String(contentsOfFile: man + "/snapctl.1", encoding: .utf8)
        #expect(main.contains(".Dt SNAPCTL 1"), "not an mdoc page: \(main.prefix(300))")
        #expect(main.contains("session") && main.contains("doctor"))
        let fold = try String(
            contentsOfFile: man + "/" + (pages.first { $0.contains("massif") && $0.contains("fold") } ?? ""),
            encoding: .utf8
        )
        #expect(fold.contains("collapsed stacks"))
        let bash = try String(contentsOfFile: prefix + "/share/bash-completion/completions/snapctl", encoding: .utf8)
        #expect(bash.contains("complete") && bash.contains("session") && bash.contains("fold"))
        let zsh = try String(contentsOfFile: prefix + "/share/zsh/site-functions/_snapctl", encoding: .utf8)
        #expect(zsh.hasPrefix("#compdef snapctl"))
        let fish = try String(contentsOfFile: prefix + "/share/fish/vendor_completions.d/snapctl.fish", encoding: .utf8)
        #expect(fish.contains("complete -c 'snapctl'"))
        // A missing build is a clear error, not a half-made install.
        let broken = try Self.run(
            Self.root + "/scripts/install-docs",
            [prefix + "/other"],
            environment: ["SNAPCTL_BIN_DIR": "/nonexistent"]
        )
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("/nonexistent/snapctl is missing; run scripts/setup"))
    }

    @Test func colourOnlyOnATerminalAndNeverWithNoColor() throws {
        #expect(Colour.enabled(isTerminal: true, environment: [:]))
        #expect(!Colour.enabled(isTerminal: false, environment: [:]))
        #expect(!Colour.enabled(isTerminal: true, environment: ["NO_COLOR": "1"]))
        #expect(Colour.enabled(isTerminal: true, environment: ["NO_COLOR": ""]))
        #expect(!Colour.enabled(isTerminal: true, environment: ["TERM": "dumb"]))
        // The real binary on a pseudo-terminal (script(1)): coloured status words, none with NO_COLOR.
        let command = "\(Self.snapctl) doctor"
        let coloured = try Self.run("/usr/bin/script", ["-qec", command, "/dev/null"], environment: ["TERM": "xterm"])
        #expect(coloured.stdout.contains("\u{1B}[32mpass"), "\(coloured.stdout.prefix(400))")
        let plain = try Self.run(
            "/usr/bin/script",
            ["-qec", command, "/dev/null"],
            environment: ["TERM": "xterm", "NO_COLOR": "1"]
        )
        #expect(plain.stdout.contains("pass "), "\(plain.stdout.prefix(400))")
        #expect(!plain.stdout.contains("\u{1B}["), "escape codes despite NO_COLOR: \(plain.stdout.prefix(400))")
        // Not a terminal: no colour either.
        let piped = try Self.run(Self.snapctl, ["doctor"])
        #expect(!piped.stdout.contains("\u{1B}[") && piped.stdout.contains("pass "))
    }

    @Test func doctorJSONHasVersionAndAllocator() throws {
        let result = try Self.run(Self.snapctl, ["doctor", "--json", "--preload", "libjemalloc.so.2"])
        let checks = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        let names = (checks ?? []).compactMap { $0["name"] as? String }
        #expect(names.first == "snapctl")
        #expect(names.contains("server allocator"))
        let allocator = checks?.first { $0["name"] as? String == "server allocator" }
        #expect((allocator?["detail"] as? String)?.contains("jemalloc") == true)
        #expect(!result.stdout.contains("\u{1B}["))
    }
}
