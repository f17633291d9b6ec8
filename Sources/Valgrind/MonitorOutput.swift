/// Reads failure out of monitor command output.
///
/// Valgrind's gdbserver answers `OK` to every `qRcmd`, even for unknown commands and for Massif
/// snapshots it could not write (`server.c:handle_gdb_monitor_command`, `ms_main.c`), so the only
/// evidence of failure is the text that came before the `OK`.
public enum MonitorOutput {
    /// Known failure texts and what they mean, in the words snapctl shows.
    static let failures: [(needle: String, reason: String)] = [
        ("can not open", "Valgrind could not open the output file (does the directory exist and is it writable?)"),
        ("cannot take snapshot before execution has started", "the program has not started executing yet"),
        ("not recognised", "unknown monitor command (try 'help')"),
        (" can match ", "ambiguous monitor command"),
        ("missing or malformed integer value", "an argument must be an integer"),
    ]

    /// The reason the command failed, or `nil` when the output shows no failure.
    public static func failure(in output: String) -> String? {
        for (needle, reason) in failures where output.contains(needle) { return reason }
        return nil
    }
}

/// Massif's on-demand monitor commands (`massif/ms_main.c:handle_gdb_monitor_command`).
public enum MassifCommand: String, Hashable, Sendable, Codable, CaseIterable {
    /// A light snapshot: totals only (`heap_tree=empty`).
    case snapshot
    /// A snapshot with the heap tree.
    case detailedSnapshot = "detailed_snapshot"
    /// Every snapshot Massif holds in memory so far.
    case allSnapshots = "all_snapshots"
    /// An xtree memory report in callgrind format.
    case xtmemory

    /// The command line for `path`, after checking the path is one Valgrind can take.
    ///
    /// Arguments are split on spaces with no quoting (`strtok_r` in `ms_main.c`) and a relative name lands
    /// in the server's working directory, so paths must be absolute and contain no white space.
    public func command(path: String) throws(ValgrindError) -> String {
        try Self.validate(path)
        return "\(rawValue) \(path)"
    }

    static func validate(_ path: String) throws(ValgrindError) {
        guard !path.isEmpty else { throw .invalidPath(path, reason: "the path is empty") }
        guard path.hasPrefix("/") else {
            throw .invalidPath(
                path,
                reason:
                    "it is relative, and Valgrind would write it in the server's working directory; give an absolute path"
            )
        }
        guard !path.contains(where: \.isWhitespace) else {
            throw .invalidPath(
                path,
                reason:
                    "it contains white space, and Valgrind splits monitor arguments on spaces; choose a path without"
            )
        }
    }
}
