import TextFormat

/// The REPL's commands: names, usage and help, in one table that parsing, `help` and completion share.
public enum ReplCommandSet {
    /// One command as `help` shows it.
    public struct Entry: Sendable, Hashable {
        /// The word that starts the command.
        public var name: String
        /// `snap [--light] LABEL`.
        public var usage: String
        /// One line for `help`.
        public var summary: String
        /// More for `help COMMAND`.
        public var details: String
    }

    /// Every command, in the order `help` lists them.
    public static let entries: [Entry] = [
        Entry(
            name: "snap",
            usage: "snap [--light] LABEL",
            summary: "take a detailed (or --light: totals only) heap snapshot labelled LABEL",
            details: """
                Recorded as a snap step; the snapshot's label is LABEL (letters, digits, '.', '_', '-'; \
                unique in the run). diff and top take the label.
                """
        ),
        Entry(
            name: "diff",
            usage: "diff [--allocated] A B [--top N]",
            summary: "which call sites grew from snapshot A to snapshot B (allocator wrappers folded)",
            details: """
                A and B are snapshot labels as snaps lists them: a snap step's own label, before-STEP and \
                after-STEP for plan steps, final. Shows the totals and the N call paths (default 10) that \
                grew most, then those that shrank. A light snapshot has totals only. With --allocated: what \
                the statements between A and B allocated, freed or not, per call path, and the hottest \
                allocators (needs a plan with allocations: true, which dumps valgrind's allocation tree around \
                every statement).
                """
        ),
        Entry(
            name: "peak",
            usage: "peak",
            summary: "what the last statement allocated and held at its peak, and the variables that size it",
            details: """
                The last statement's transient-memory lenses: bytes and calls it allocated per call path \
                (allocations: true in the plan), its sampled peak when the step had peak: detailed, and the \
                server variable behind the largest, with its value and the worst case at max_connections.
                """
        ),
        Entry(
            name: "top",
            usage: "top [LABEL] [--top N]",
            summary: "the largest allocation sites of a snapshot (default: the latest detailed one)",
            details: "Allocator wrappers (my_malloc, alloc_root, ut_allocator, ...) are folded into their callers."
        ),
        Entry(
            name: "snaps",
            usage: "snaps",
            summary: "list the snapshots: label, kind, total, change from the previous one",
            details: "The labels listed are the ones diff and top take."
        ),
        Entry(
            name: "counters",
            usage: "counters",
            summary: "the server's Memory_used and each connection's PROCESSLIST.MEMORY_USED",
            details: "Read through snapctl's observer connection, as a session reads them at every snapshot."
        ),
        Entry(
            name: "connect",
            usage: "connect NAME [USER@DB]",
            summary: "open connection NAME (as USER, on database DB) and use it",
            details: """
                USER@DB, USER@ or @DB; the user defaults to root. A connection the loaded plan declares opens \
                as declared. The connection is recorded, and the saved plan declares it.
                """
        ),
        Entry(
            name: "use",
            usage: "use NAME",
            summary: "run the following SQL on connection NAME",
            details: """
                When NAME is not a connection, or the line ends with ';', the line is SQL (USE database) and \
                goes to the server.
                """
        ),
        Entry(
            name: "step",
            usage: "step LABEL",
            summary: "run the loaded plan's step LABEL with its snapshots, as a session does",
            details: "A step run again is labelled LABEL-2, LABEL-3, ... so that its snapshots keep their own labels."
        ),
        Entry(
            name: "monitor",
            usage: "monitor COMMAND...",
            summary: "send a raw Valgrind monitor command (v.info stats, detailed_snapshot /abs/path, ...)",
            details: "Sent over snapctl's kept-open vgdb relay; the output is shown as Valgrind wrote it."
        ),
        Entry(
            name: "report",
            usage: "report",
            summary: "the text report of the run so far (as report.txt will say it)",
            details: "Steps, the sites that grew in each, server counters, the memory envelope and the verdicts."
        ),
        Entry(
            name: "save-plan",
            usage: "save-plan FILE",
            summary: "write what was done as a plan that snapctl session replays",
            details: """
                The loaded plan's server, massif options and connections, then every step done. A statement \
                that failed with a server error is kept with expect: {error: CODE}; interrupted steps are \
                left out. The run directory's plan.yaml gets the same at the end.
                """
        ),
        Entry(
            name: "help",
            usage: "help [COMMAND]",
            summary: "list the commands, or explain one",
            details: "Any line that is not a command is SQL; a statement ends with ';' and may span lines."
        ),
        Entry(
            name: "quit",
            usage: "quit",
            summary: "end the run: final snapshot, server shut down, reports written (also exit, Ctrl-D)",
            details: "The run directory is finalised exactly as a session's; its path is the last line printed."
        ),
        Entry(
            name: "exit",
            usage: "exit",
            summary: "the same as quit",
            details: "The run directory is finalised exactly as a session's; its path is the last line printed."
        ),
    ]

    /// Every command word.
    public static let names: [String] = entries.map(\.name)

    /// The entry for `name`.
    public static func entry(_ name: String) -> Entry? {
        entries.first { $0.name == name }
    }

    /// `help`: every command with its summary, and how SQL is entered.
    public static func helpText() -> String {
        let width = (entries.map(\.usage.count).max() ?? 0) + 2
        var out = "Commands (help COMMAND for more):\n"
        for entry in entries {
            out += "  " + Format.pad(entry.usage, width - 1) + " "
            out += entry.summary + "\n"
        }
        out += """
            Any other line is SQL, run on the current connection; a statement ends with ';' and may span lines.
            Ctrl-C clears the input, or stops a running statement (KILL QUERY); Ctrl-D ends like quit.

            """
        return out
    }

    /// `help COMMAND`.
    public static func helpText(for name: String) -> String? {
        guard let entry = entry(name.lowercased()) else { return nil }
        return "usage: \(entry.usage)\n  \(entry.summary)\n  \(entry.details)\n"
    }
}
