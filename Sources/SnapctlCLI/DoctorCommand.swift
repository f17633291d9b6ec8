import ArgumentParser
import Foundation
import MySQLServer
import Valgrind

/// `snapctl doctor`: is this machine ready to profile a server, and if not, what to do.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check valgrind, vgdb, ptrace and the server binary; exit 2 if a check fails."
    )

    @Option(help: "The server binary to check: a name on PATH or a path.")
    var binary = "mariadbd"

    @Flag(help: "Print the checks as JSON.")
    var json = false

    func run() async throws {
        let checks = await ValgrindDoctor.checks() + ServerDoctor.checks(binary: binary)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(checks), as: UTF8.self))
        } else {
            print(Self.render(checks))
        }
        if checks.contains(where: { $0.status == .fail }) { throw ExitStatus.environment }
    }

    /// One line per check, then its fix indented under it.
    static func render(_ checks: [DoctorCheck]) -> String {
        let width = (checks.map(\.name.count).max() ?? 0) + 2
        var lines: [String] = []
        for check in checks {
            let name = check.name.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append(
                "\(check.status.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(name)\(check.detail)"
            )
            if let fix = check.fix, check.status != .pass {
                lines.append(String(repeating: " ", count: 6 + width) + "fix: " + fix)
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
