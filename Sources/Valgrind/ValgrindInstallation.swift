import Subprocess

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A valgrind release number, as printed by `valgrind --version` (`valgrind-3.19.0`).
public typealias ValgrindVersion = ReleaseVersion

/// Where valgrind and vgdb live on this machine, and which valgrind release they are.
public struct ValgrindInstallation: Sendable, Hashable, Codable {
    /// The `valgrind` launcher found on PATH.
    public var valgrind: String
    /// The `vgdb` relay found on PATH.
    public var vgdb: String
    /// The release, from `valgrind --version`.
    public var version: ValgrindVersion

    /// Creates an installation description from known paths and version.
    public init(valgrind: String, vgdb: String, version: ValgrindVersion) {
        self.valgrind = valgrind
        self.vgdb = vgdb
        self.version = version
    }

    /// The first valgrind release whose io_uring support lets MariaDB start: below it,
    /// `io_uring_enter` blocks while holding valgrind's big lock and the server hangs at
    /// "InnoDB: Using io_uring" (fixed in 3.23; docs/architecture.md, "Valgrind, vgdb and MariaDB").
    public static let firstReleaseWithWorkingIOUring = ValgrindVersion(3, 23, 0)

    /// Whether InnoDB must be told `--innodb-use-native-aio=0` to start under this valgrind.
    public var needsNativeAIOWorkaround: Bool { version < Self.firstReleaseWithWorkingIOUring }

    /// What looking for valgrind found: an installation, or what is missing.
    public enum Lookup: Sendable, Hashable {
        case found(ValgrindInstallation)
        /// No executable `valgrind` in any directory of the search path.
        case valgrindMissing(searchPath: [String])
        /// valgrind is there but `vgdb` (needed for snapshots) is not.
        case vgdbMissing(valgrind: String, searchPath: [String])
        /// `valgrind --version` did not print a version (the text it printed, or why it did not run).
        case versionUnreadable(valgrind: String, output: String)
    }

    /// Finds valgrind and vgdb on `PATH` and reads valgrind's version.
    ///
    /// - Parameters:
    ///   - path: a `PATH`-style list; the process's own `PATH` when `nil`.
    ///   - memo: where `valgrind --version` answers are remembered by the file's identity (none: always run).
    public static func locate(path: String? = nil, memo: VersionMemo? = nil) async -> Lookup {
        let searchPath = Self.searchPath(path)
        guard let valgrind = findExecutable(named: "valgrind", in: searchPath) else {
            return .valgrindMissing(searchPath: searchPath)
        }
        guard let vgdb = findExecutable(named: "vgdb", in: searchPath) else {
            return .vgdbMissing(valgrind: valgrind, searchPath: searchPath)
        }
        let identity = memo == nil ? nil : VersionMemo.identity(of: valgrind)
        if let memo, let identity, let remembered = memo.recall(valgrind, identity: identity),
            let version = ValgrindVersion(parsing: remembered)
        {
            return .found(ValgrindInstallation(valgrind: valgrind, vgdb: vgdb, version: version))
        }
        let output: String
        do {
            let result = try await Subprocess.run(
                .path(.init(valgrind)),
                arguments: ["--version"],
                output: .string(limit: 4096),
                error: .string(limit: 4096)
            )
            output = result.standardOutput + result.standardError
        } catch {
            return .versionUnreadable(valgrind: valgrind, output: "\(error)")
        }
        guard let version = ValgrindVersion(parsing: output) else {
            return .versionUnreadable(valgrind: valgrind, output: output)
        }
        if let memo, let identity { memo.remember(output, for: valgrind, identity: identity) }
        return .found(ValgrindInstallation(valgrind: valgrind, vgdb: vgdb, version: version))
    }

    /// Splits a `PATH` value into directories; the process's `PATH` (or a conventional default) when `nil`.
    public static func searchPath(_ path: String? = nil) -> [String] {
        let value = path ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        return value.split(separator: ":").map { $0.isEmpty ? "." : String($0) }
    }

    /// The first regular, executable file called `name` in `directories`, or `name` itself when it
    /// contains a slash and is executable.
    public static func findExecutable(named name: String, in directories: [String]) -> String? {
        if name.contains("/") { return isExecutableFile(name) ? name : nil }
        for directory in directories {
            let candidate = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    /// Whether `path` is a regular file (after symlinks) that this process may execute.
    public static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
