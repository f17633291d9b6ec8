#if canImport(Glibc)
import Glibc
#endif

/// One valgrind process's vgdb FIFO set, found on disk.
///
/// Valgrind names its FIFOs `<prefix>-from-vgdb-to-<pid>-by-<user>-on-<host>` and vgdb computes the same
/// name from its own environment (`vgdb.c:prepare_fifos_and_shared_mem`, `remote-utils.c:remote_open`):
/// user from LOGNAME or USER, host from HOST or HOSTNAME, `???` when unset. Reading the name back lets
/// snapctl give vgdb the environment that matches, so attaching works whatever the caller's environment.
public struct VgdbEndpoint: Hashable, Sendable, Codable {
    public var pid: Int32
    public var prefix: String
    public var user: String
    public var host: String
    /// Whether a process with this pid exists now (a SIGKILLed valgrind leaves stale FIFOs behind).
    public var alive: Bool

    /// The FIFO vgdb writes into; Valgrind creates it last, so its presence means the gdbserver is ready.
    public var toValgrindFIFO: String { "\(prefix)-from-vgdb-to-\(pid)-by-\(user)-on-\(host)" }

    /// The environment overrides that make vgdb compute the same FIFO names.
    public var environment: [String: String?] {
        let user: String? = self.user == "???" ? nil : self.user
        let host: String? = self.host == "???" ? nil : self.host
        return ["LOGNAME": user, "USER": user, "HOST": host, "HOSTNAME": host]
    }

    /// Valgrind's default prefix: `$TMPDIR/vgdb-pipe`, else `/tmp/vgdb-pipe` (`vgdb_prefix_default`).
    public static var defaultPrefix: String {
        if let tmp = getenv("TMPDIR").map({ String(cString: $0) }), !tmp.isEmpty { return tmp + "/vgdb-pipe" }
        return "/tmp/vgdb-pipe"
    }

    /// Every vgdb FIFO set under `prefix`, in pid order.
    public static func scan(prefix: String) -> [VgdbEndpoint] {
        let (directory, base) = split(prefix)
        let marker = base + "-from-vgdb-to-"
        var found: [VgdbEndpoint] = []
        for name in names(in: directory) {
            guard name.hasPrefix(marker) else { continue }
            let rest = name.dropFirst(marker.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) else { continue }
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFIFO else { continue }
            var user = "???"
            var host = "???"
            let tail = rest[dash...]
            if tail.hasPrefix("-by-"), let on = tail.firstRange(of: "-on-") {
                user = String(tail[tail.index(tail.startIndex, offsetBy: 4)..<on.lowerBound])
                host = String(tail[on.upperBound...])
            }
            found.append(
                VgdbEndpoint(pid: pid, prefix: prefix, user: user, host: host, alive: processExists(pid))
            )
        }
        return found.sorted { $0.pid < $1.pid }
    }

    /// Finds the endpoint of `pid` under `prefix`, or explains why there is none.
    public static func locate(pid: Int32, prefix: String) throws(ValgrindError) -> VgdbEndpoint {
        guard pid > 0, processExists(pid) else { throw .noSuchProcess(pid: pid) }
        let all = scan(prefix: prefix)
        if let match = all.first(where: { $0.pid == pid }) { return match }
        throw .noFIFO(pid: pid, prefix: prefix, found: all)
    }

    /// Every FIFO and shared-memory file valgrind made for `pid` under `prefix`: the two FIFOs and
    /// `<prefix>-shared-mem-vgdb-<pid>-...` (`vgdb.c:prepare_fifos_and_shared_mem`).
    public static func files(pid: Int32, prefix: String) -> [String] {
        let (directory, base) = split(prefix)
        let starts = ["from-vgdb-to", "to-vgdb-from", "shared-mem-vgdb"].map { "\(base)-\($0)-\(pid)-" }
        return names(in: directory).filter { name in starts.contains { name.hasPrefix($0) } }.sorted().map {
            directory + "/" + $0
        }
    }

    /// Removes what a killed valgrind left behind under `prefix` (a clean exit removes them itself);
    /// returns what was removed.
    @discardableResult
    public static func removeStale(pid: Int32, prefix: String) -> [String] {
        let stale = files(pid: pid, prefix: prefix)
        for path in stale { unlink(path) }
        return stale
    }

    /// A prefix's directory and the start of the file names in it.
    static func split(_ prefix: String) -> (directory: String, base: String) {
        guard let slash = prefix.lastIndex(of: "/") else { return (".", prefix) }
        let directory = String(prefix[..<slash])
        return (directory.isEmpty ? "/" : directory, String(prefix[prefix.index(after: slash)...]))
    }

    /// The entry names of `directory`, or none when it cannot be read.
    static func names(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            names.append(
                withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
            )
        }
        return names
    }

    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
