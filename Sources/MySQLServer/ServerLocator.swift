import Subprocess
import Valgrind

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Finds server binaries and their datadir initialisers, and asks a binary what it is.
public enum ServerLocator {
    /// Where server binaries live besides `PATH`: `sbin` is often missing from a user's `PATH`.
    public static let extraDirectories = ["/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin", "/usr/libexec"]

    /// The directories searched for a server binary: `PATH` then ``extraDirectories``.
    public static func searchPath(_ path: String? = nil) -> [String] {
        var directories = ValgrindInstallation.searchPath(path)
        for directory in extraDirectories where !directories.contains(directory) { directories.append(directory) }
        return directories
    }

    /// Resolves `name` (a name on the search path, or a path) to an executable file.
    public static func resolve(_ name: String, path: String? = nil) throws(ServerError) -> String {
        let directories = searchPath(path)
        guard let found = ValgrindInstallation.findExecutable(named: name, in: directories) else {
            throw .serverBinaryMissing(name: name, searched: name.contains("/") ? [name] : directories)
        }
        return found
    }

    /// Runs `<binary> --version` and reads its flavour and version; with a `memo`, an output remembered
    /// for the same file is read instead of running the binary again.
    public static func identify(
        _ binary: String,
        memo: VersionMemo? = nil
    ) async throws(ServerError)
        -> ServerBinary
    {
        let identity = memo == nil ? nil : VersionMemo.identity(of: binary)
        if let memo, let identity, let remembered = memo.recall(binary, identity: identity),
            let known = serverBinary(binary, versionOutput: remembered)
        {
            return known
        }
        let output: String
        do {
            let result = try await Subprocess.run(
                .path(.init(binary)),
                arguments: ["--version"],
                output: .string(limit: 64 * 1024),
                error: .string(limit: 64 * 1024)
            )
            output = result.standardOutput + result.standardError
        } catch {
            throw .spawnFailed(command: "\(binary) --version", reason: "\(error)")
        }
        guard let identified = serverBinary(binary, versionOutput: output) else {
            throw .unrecognisedServer(binary: binary, versionOutput: output)
        }
        if let memo, let identity { memo.remember(output, for: binary, identity: identity) }
        return identified
    }

    /// The binary a `--version` output describes, or `nil` when it names no known server.
    static func serverBinary(_ binary: String, versionOutput output: String) -> ServerBinary? {
        guard let (flavor, version) = ServerBinary.parseVersionOutput(output) else { return nil }
        let line = output.split(separator: "\n").first(where: { $0.contains(" Ver ") }).map(String.init) ?? output
        return ServerBinary(path: binary, flavor: flavor, version: version, versionLine: line.trimmed)
    }

    /// The datadir initialiser for `binary`: for MariaDB `mariadb-install-db` (or the older
    /// `mysql_install_db`) next to the binary, in the sibling `bin` directory, or on the search path; for
    /// MySQL the server binary itself (`mysqld --initialize-insecure`).
    public static func initialiser(for binary: ServerBinary, path: String? = nil) -> String? {
        switch binary.flavor {
        case .mysql:
            return binary.path
        case .mariadb:
            let directory = FileIO.directory(of: binary.path)
            var directories = [directory]
            if directory.hasSuffix("/sbin") { directories.append(String(directory.dropLast(4)) + "bin") }
            directories += searchPath(path)
            for name in ["mariadb-install-db", "mysql_install_db"] {
                if let found = ValgrindInstallation.findExecutable(named: name, in: directories) { return found }
            }
            return nil
        }
    }

    /// Whether snapctl runs as root, in which case the server needs `--user=root`.
    public static var runningAsRoot: Bool { geteuid() == 0 }
}
