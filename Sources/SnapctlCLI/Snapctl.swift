import ArgumentParser
import MySQLServer
import RunRecord
import Valgrind

/// The root command: `snapctl` and its subcommands.
public struct Snapctl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "snapctl",
        abstract: "Profile MySQL and MariaDB heap growth per SQL step with Valgrind Massif.",
        discussion: """
            Shell completions: snapctl --generate-completion-script bash|zsh|fish. scripts/install-docs installs \
            them with the man page. Output has no colour when NO_COLOR is set or it is not a terminal.
            """,
        subcommands: [
            SessionCommand.self, ReportCommand.self, DoctorCommand.self, MonitorCommand.self, MassifCommand.self,
            BundleCommand.self, ReplayCommand.self, ExportCommand.self,
            ReplCommand.self,
        ]
    )

    @Flag(name: .long, help: "Print snapctl's version (with --verbose, valgrind's and the server's too) and exit.")
    var version = false

    @Flag(name: .long, help: "With --version: also the versions of valgrind and the server binary.")
    var verbose = false

    @Option(help: "With --version --verbose: the server binary to ask (a name on PATH or a path).")
    var binary = "mariadbd"

    public init() {}

    public func run() async throws {
        guard version else { throw CleanExit.helpRequest(self) }
        print(await Self.versionText(verbose: verbose, binary: binary))
    }

    /// `snapctl 0.3.0`, and with `verbose` a line for valgrind and one for the server, each saying why it
    /// is missing when it is.
    static func versionText(verbose: Bool, binary: String = "mariadbd", path: String? = nil) async -> String {
        var lines = ["snapctl \(SnapctlVersion.current)"]
        guard verbose else { return lines[0] }
        switch await ValgrindInstallation.locate(path: path) {
        case .found(let installation):
            lines.append("valgrind \(installation.version) (\(installation.valgrind))")
        case .valgrindMissing: lines.append("valgrind: not found on PATH")
        case .vgdbMissing(let valgrind, _): lines.append("valgrind at \(valgrind), but no vgdb on PATH")
        case .versionUnreadable(let valgrind, _): lines.append("valgrind at \(valgrind): version unreadable")
        }
        do {
            let resolved = try ServerLocator.resolve(binary, path: path)
            let identified = try await ServerLocator.identify(resolved)
            lines.append("server \(identified.flavor) \(identified.version) (\(resolved))")
        } catch {
            lines.append("server '\(binary)': \(error)")
        }
        return lines.joined(separator: "\n")
    }
}
