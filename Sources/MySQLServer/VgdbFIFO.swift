/// The gdbserver FIFOs valgrind creates for `--vgdb=yes`, found by pid under a `--vgdb-prefix`.
///
/// Names follow `coregrind/vgdb.c:prepare_fifos_and_shared_mem`:
/// `<prefix>-from-vgdb-to-<pid>-by-<user>-on-<host>` (created last, so its presence means the gdbserver
/// is ready), `<prefix>-to-vgdb-from-<pid>-...` and `<prefix>-shared-mem-vgdb-<pid>-...`. User and host
/// come from the environment of each side, so snapctl matches on the pid only, as vgdb's
/// `search_arg_pid` does.
public enum VgdbFIFO {
    /// Splits a prefix into its directory and the start of the file names.
    static func split(_ prefix: String) -> (directory: String, stem: String) {
        guard let slash = prefix.lastIndex(of: "/") else { return (".", prefix) }
        let directory = String(prefix[..<slash])
        return (directory.isEmpty ? "/" : directory, String(prefix[prefix.index(after: slash)...]))
    }

    /// The path of the `-from-vgdb-to-<pid>-` FIFO for `pid` under `prefix`, or `nil` if there is none.
    public static func find(pid: Int32, prefix: String) -> String? {
        let (directory, stem) = split(prefix)
        let start = "\(stem)-from-vgdb-to-\(pid)-"
        for name in FileIO.list(directory) where name.hasPrefix(start) {
            let path = directory + "/" + name
            if FileIO.isFIFO(path) { return path }
        }
        return nil
    }

    /// Every FIFO and shared-memory file valgrind made for `pid` under `prefix`.
    public static func files(pid: Int32, prefix: String) -> [String] {
        let (directory, stem) = split(prefix)
        let starts = ["from-vgdb-to", "to-vgdb-from", "shared-mem-vgdb"].map { "\(stem)-\($0)-\(pid)-" }
        return FileIO.list(directory).filter { name in starts.contains { name.hasPrefix($0) } }.map {
            directory + "/" + $0
        }
    }

    /// Removes what a killed valgrind left behind (a clean exit removes them itself); returns what was
    /// removed.
    @discardableResult
    public static func removeStale(pid: Int32, prefix: String) -> [String] {
        let stale = files(pid: pid, prefix: prefix)
        for path in stale { FileIO.removeTree(path) }
        return stale
    }
}
