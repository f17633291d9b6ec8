import Valgrind

/// The two server families snapctl knows how to initialise and run.
public enum ServerFlavor: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case mariadb
    case mysql

    public var description: String {
        switch self {
        case .mariadb: return "MariaDB"
        case .mysql: return "MySQL"
        }
    }
}

/// A server version such as `10.11.19` or `8.0.36`, comparable for flag decisions.
public typealias ServerVersion = ReleaseVersion

/// A server binary and what its `--version` says it is.
public struct ServerBinary: Sendable, Hashable, Codable {
    /// The resolved path of `mariadbd` / `mysqld`.
    public var path: String
    public var flavor: ServerFlavor
    public var version: ServerVersion
    /// The full `--version` line, for the run record.
    public var versionLine: String

    /// Creates a description of a known binary.
    public init(path: String, flavor: ServerFlavor, version: ServerVersion, versionLine: String) {
        self.path = path
        self.flavor = flavor
        self.version = version
        self.versionLine = versionLine
    }

    /// Reads the flavour and version from `--version` output, e.g.
    /// `/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)` or
    /// `/usr/sbin/mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)`.
    ///
    /// MariaDB says "MariaDB" in its version string; anything else with a `Ver` word is MySQL (or a
    /// MySQL fork such as Percona Server, which initialises the same way).
    public static func parseVersionOutput(_ output: String) -> (flavor: ServerFlavor, version: ServerVersion)? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains(" Ver ") }) else { return nil }
        let words = line.split(separator: " ")
        guard let index = words.firstIndex(of: "Ver"), index + 1 < words.count,
            let version = ServerVersion(parsing: words[index + 1])
        else { return nil }
        let flavor: ServerFlavor = line.lowercased().contains("mariadb") ? .mariadb : .mysql
        return (flavor, version)
    }
}
