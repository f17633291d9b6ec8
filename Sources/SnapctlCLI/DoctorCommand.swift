import ArgumentParser
import Foundation
import MySQLServer
import RunRecord
import TextFormat
import Valgrind

#if canImport(Glibc)
import Glibc
#endif

/// `snapctl doctor`: is this machine ready to profile a server, and if not, what to do.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check valgrind, vgdb, ptrace and the server binary; exit 2 if a check fails."
    )

    @Option(help: "The server binary to check: a name on PATH or a path.")
    var binary = "mariadbd"

    @Option(help: "A library the server will run with in LD_PRELOAD (server.env), to check its allocator (repeatable).")
    var preload: [String] = []

    @Flag(help: "Print the checks as JSON.")
    var json = false

    func run() async throws {
        let checks = await Self.checks(binary: binary, preload: preload)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(checks), as: UTF8.self))
        } else {
            print(Self.render(checks, colour: Colour.enabled(isTerminal: isatty(1) != 0)))
        }
        if checks.contains(where: { $0.status == .fail }) { throw ExitStatus.environment }
    }

    /// Every check: snapctl's own version first, then valgrind, ptrace, the server and its allocator.
    static func checks(binary: String, preload: [String], path: String? = nil) async -> [DoctorCheck] {
        var checks = [DoctorCheck(name: "snapctl", status: .pass, detail: "snapctl \(SnapctlVersion.current)")]
        checks += await ValgrindDoctor.checks(path: path)
        checks += await ServerDoctor.checks(binary: binary, path: path)
        checks.append(ServerDoctor.allocatorCheck(binary: binary, preload: preload, path: path))
        return checks
    }

    /// One line per check, then its fix indented under it; the status word in colour when `colour`.
    static func render(_ checks: [DoctorCheck], colour: Bool = false) -> String {
        let width = (checks.map(\.name.count).max() ?? 0) + 2
        var lines: [String] = []
        for check in checks {
            let name = Format.pad(check.name, width)
            let status = Format.pad(check.status.rawValue, 5)
            let shown: String
            switch check.status {
            case .pass: shown = Colour.paint(status, .green, colour)
            case .warn: shown = Colour.paint(status, .yellow, colour)
            case .fail: shown = Colour.paint(status, .red, colour)
            }
            lines.append("\(shown) \(name)\(check.detail)")
            if let fix = check.fix, check.status != .pass {
                lines.append(Format.pad("", 6 + width) + "fix: " + fix)
            }
        }
        let failed = checks.filter { $0.status == .fail }.count
        let warned = checks.filter { $0.status == .warn }.count
        lines.append(
            failed == 0
                ? "ready (\(warned) warning\(warned == 1 ? "" : "s"))"
                : "not ready: \(failed) check\(failed == 1 ? "" : "s") failed"
        )
        return lines.joined(separator: "\n")
    }
}
