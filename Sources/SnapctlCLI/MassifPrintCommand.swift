import ArgumentParser
import Massif

/// `snapctl massif print FILE [--threshold P]`: chart, snapshot table and trees, like ms_print but compact.
struct MassifPrintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print",
        abstract: "Print a massif file: a chart of the totals, a table of snapshots and the detailed trees."
    )

    @Argument(help: "The massif file.")
    var file: String

    @Option(help: "Sum tree nodes below this percentage of the snapshot's total into one line.")
    var threshold: Double = 1.0

    @Option(help: "Print the tree of this snapshot only (repeatable).")
    var snapshot: [Int] = []

    func validate() throws {
        guard threshold >= 0 && threshold <= 100 else {
            throw ValidationError("--threshold must be between 0 and 100, got \(threshold)")
        }
    }

    func output() throws(MassifError) -> String {
        let options = MassifRenderer.Options(
            threshold: threshold,
            treeSnapshots: snapshot.isEmpty ? nil : Set(snapshot)
        )
        if try MassifCommand.isCallgrindXTree(file) {
            return MassifRenderer.render(try MassifCommand.loadCallgrindXTree(file).massifFile(), options: options)
        }
        var parser = MassifParser(fileName: file)
        var printer: MassifPrinter?
        func take(_ event: MassifParser.Event) {
            switch event {
            case .header(let header): printer = MassifPrinter(header: header, options: options)
            case .snapshot(let snapshot): printer?.add(snapshot)
            }
        }
        try MassifCommand.stream(file, into: &parser, take)
        while let event = try parser.next() { take(event) }
        return printer?.finish() ?? ""
    }

    func run() throws {
        try MassifCommand.emit { try output() }
    }
}
