/// The valgrind command line that runs a program under Massif with the gdbserver enabled, as a value.
///
/// snapctl records this in the run manifest and prints it in errors, so it is a plain value that can be
/// compared and printed rather than an array assembled at the call site. The order of ``arguments`` is
/// fixed: snapctl's own options first, then the user's Massif options (so that a user option such as
/// `--massif-out-file` given twice wins, valgrind keeping the last occurrence), then the program.
public struct ValgrindCommand: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The valgrind launcher, usually `/usr/bin/valgrind` (on Debian a script that execs `valgrind.bin`,
    /// so the pid stays the same).
    public var valgrind: String
    /// `--vgdb-prefix`: where the gdbserver FIFOs are created (`<prefix>-from-vgdb-to-<pid>-by-...`,
    /// see `coregrind/vgdb.c:prepare_fifos_and_shared_mem`). A private prefix keeps them out of `/tmp`.
    public var vgdbPrefix: String
    /// `--massif-out-file`: Massif's end-of-run file, written on a clean exit (SIGTERM, SHUTDOWN) only.
    public var massifOutFile: String
    /// `--log-file`: valgrind's own messages, kept apart from the program's output.
    public var logFile: String
    /// Massif options from the user (`--depth=40`, `--time-unit=B`, ...), passed after snapctl's.
    public var massifOptions: [String]
    /// The program to run under valgrind.
    public var program: String
    /// The program's own arguments.
    public var programArguments: [String]
    /// Variables snapctl sets for valgrind and the program (``GuestTunables``), shown before the
    /// command in ``description`` so that a pasted command runs the same way. The user's own server
    /// variables are not here: they may hold secrets.
    public var environment: [String: String]

    /// Creates a Massif command line.
    public init(
        valgrind: String,
        vgdbPrefix: String,
        massifOutFile: String,
        logFile: String,
        massifOptions: [String] = [],
        program: String,
        programArguments: [String] = [],
        environment: [String: String] = [:]
    ) {
        self.valgrind = valgrind
        self.vgdbPrefix = vgdbPrefix
        self.massifOutFile = massifOutFile
        self.logFile = logFile
        self.massifOptions = massifOptions
        self.program = program
        self.programArguments = programArguments
        self.environment = environment
    }

    /// Decodes a command; one recorded before ``environment`` existed decodes with none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        valgrind = try container.decode(String.self, forKey: .valgrind)
        vgdbPrefix = try container.decode(String.self, forKey: .vgdbPrefix)
        massifOutFile = try container.decode(String.self, forKey: .massifOutFile)
        logFile = try container.decode(String.self, forKey: .logFile)
        massifOptions = try container.decode([String].self, forKey: .massifOptions)
        program = try container.decode(String.self, forKey: .program)
        programArguments = try container.decode([String].self, forKey: .programArguments)
        environment = try container.decodeIfPresent([String: String].self, forKey: .environment) ?? [:]
    }

    /// The tool is always Massif: snapctl's snapshots are Massif monitor commands.
    public var tool: String { "massif" }

    /// Valgrind's options, without the program: the tool, the gdbserver, the output files, then the
    /// user's options.
    public var valgrindOptions: [String] {
        [
            "--tool=\(tool)",
            "--vgdb=yes",
            "--vgdb-prefix=\(vgdbPrefix)",
            "--massif-out-file=\(massifOutFile)",
            "--log-file=\(logFile)",
        ] + massifOptions
    }

    /// Everything after the executable: valgrind's options, the program and its arguments.
    public var arguments: [String] {
        valgrindOptions + [program] + programArguments
    }

    /// The whole command line, each word shell-quoted and preceded by ``environment``, ready to paste
    /// into a terminal.
    public var description: String {
        let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return (assignments + [valgrind] + arguments).map(ValgrindCommand.shellQuote).joined(separator: " ")
    }

    /// Quotes one word for a POSIX shell: words made only of safe characters are left alone, anything
    /// else goes inside single quotes, with embedded single quotes written as `'\''`.
    public static func shellQuote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if word.allSatisfy({ safe.contains($0) }) { return word }
        var quoted = "'"
        for character in word {
            if character == "'" { quoted += #"'\''"# } else { quoted.append(character) }
        }
        return quoted + "'"
    }
}
