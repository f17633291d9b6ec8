import ArgumentParser
import Foundation
import Report
import RunRecord
import Session

/// `snapctl report RUN`: renders a run directory's report again from its manifest and snapshot files.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render the report of a run directory again (text, or JSON with --json).",
        discussion: "With --check, exits 3 when a budget was exceeded or a leak was flagged."
    )

    @Argument(help: "The run directory.")
    var directory: String

    @Flag(help: "Print report.json instead of the text.")
    var json = false

    @Flag(help: "Print report.html (one self-contained page) instead of the text.")
    var html = false

    @Flag(help: "Exit 3 when a budget was exceeded or a leak was flagged.")
    var check = false

    /// Reads the run directory (manifest and snapshot files); problems with snapshot files are warnings.
    static func load(_ run: String) throws(ExitCode) -> LoadedRun {
        do {
            let loaded = try RunLoader.load(run)
            for problem in loaded.problems { printError("warning: " + problem) }
            return loaded
        } catch {
            printError(error.description)
            throw ExitStatus.usage
        }
    }

    func validate() throws {
        if json && html { throw ValidationError("--json and --html cannot be used together") }
    }

    func run() throws {
        let run = try Self.load(directory)
        let report = run.report()
        if html {
            print(run.html(report), terminator: "")
        } else if json {
            print(String(decoding: report.jsonData(), as: UTF8.self))
        } else {
            print(report.text(), terminator: "")
        }
        if check && !report.withinBudgets { throw ExitStatus.budget }
    }
}
