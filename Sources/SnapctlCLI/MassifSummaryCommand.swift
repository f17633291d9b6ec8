import ArgumentParser
import Foundation
import Massif

/// `snapctl massif summary FILE [--json]`: the figures of each snapshot and the peak.
struct MassifSummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Each snapshot's time, heap, extra, stacks and total bytes, and which is the peak."
    )

    @Argument(help: "The massif file.")
    var file: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func output() throws(MassifError) -> String {
        let parsed = try MassifCommand.load(file)
        let summary = MassifSummary(parsed)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = (try? encoder.encode(summary)) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        }
        var options = MassifRenderer.Options()
        options.treeSnapshots = []
        return MassifRenderer.render(parsed, options: options)
    }

    func run() throws {
        try MassifCommand.emit { try output() }
    }
}
