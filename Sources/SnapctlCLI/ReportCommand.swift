import ArgumentParser
import Foundation
import Massif
import Report
import RunRecord

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

    /// Reads the manifest and every snapshot file it names, and builds the report.
    static func load(_ run: String) throws(ExitCode) -> RunReport {
        try loadWithManifest(run).report
    }

    /// The report and the manifest it was built from.
    static func loadWithManifest(
        _ run: String
    ) throws(ExitCode) -> (report: RunReport, manifest: RunManifest, snapshots: [Int: Snapshot]) {
        let path = run + "/" + RunLayout.manifest
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("\(path): no such file; give a run directory written by snapctl session")
            throw ExitStatus.usage
        }
        let manifest: RunManifest
        do {
            manifest = try RunManifest.decode(data, path: path)
        } catch {
            printError(error.description)
            throw ExitStatus.usage
        }
        var snapshots: [Int: Snapshot] = [:]
        for record in manifest.snapshots {
            let file = run + "/" + record.file
            guard let bytes = FileManager.default.contents(atPath: file) else {
                printError("warning: \(file) is missing; step \(record.step) is reported without its sites")
                continue
            }
            do {
                snapshots[record.id] = try MassifFile.parse([UInt8](bytes), fileName: record.file).snapshots.last
            } catch {
                printError("warning: \(error)")
            }
        }
        return (RunReport.make(manifest: manifest, snapshots: snapshots), manifest, snapshots)
    }

    func validate() throws {
        if json && html { throw ValidationError("--json and --html cannot be used together") }
    }

    func run() throws {
        let (report, manifest, snapshots) = try Self.loadWithManifest(directory)
        if html {
            print(report.html(manifest: manifest, snapshots: snapshots), terminator: "")
        } else if json {
            print(String(decoding: report.jsonData(), as: UTF8.self))
        } else {
            print(report.text(), terminator: "")
        }
        if check && !report.withinBudgets { throw ExitStatus.budget }
    }
}
