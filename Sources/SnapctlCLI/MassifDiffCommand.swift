import ArgumentParser
import Foundation
import Massif

/// `snapctl massif diff A [B] [--snapshot I:J] [--top N] [--json]`: what grew between two snapshots.
struct MassifDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two snapshots: totals, and per call path and per function for detailed ones.",
        discussion: """
            By default the last detailed snapshot of A is compared with the last detailed snapshot of B (the last
            snapshot when a file has no detailed one). With one file, both snapshots come from it.
            """
    )

    @Argument(help: "The massif file with the 'before' snapshot.")
    var before: String

    @Argument(help: "The massif file with the 'after' snapshot (default: the same file).")
    var after: String?

    @Option(help: "Snapshot numbers to compare, I in the first file and J in the second, as I:J.")
    var snapshot: String?

    @Option(help: "How many functions and call paths to show.")
    var top = 10

    @Option(help: "Hide changes smaller than this many bytes.")
    var minBytes = 1

    @Option(help: "Hide changes smaller than this percentage of the larger total.")
    var minPercent = 0.0

    @Option(help: "Another allocator wrapper to fold into its callers (repeatable).")
    var fold: [String] = []

    @Flag(help: "Do not fold allocator wrappers.")
    var noFold = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if let snapshot, Self.indexes(snapshot) == nil {
            throw ValidationError("--snapshot must be I:J with two snapshot numbers, got '\(snapshot)'")
        }
        guard top >= 0 else { throw ValidationError("--top must not be negative") }
    }

    static func indexes(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = Int(parts[0]), let second = Int(parts[1]), first >= 0, second >= 0 else {
            return nil
        }
        return (first, second)
    }

    /// The snapshot numbered `index`, or by default the last one with a tree (else the last one).
    static func pick(_ file: MassifFile, _ index: Int?, name: String) throws(MassifError) -> Snapshot {
        if let index {
            guard let found = file.snapshots.first(where: { $0.index == index }) else {
                let range = file.snapshots.map(\.index)
                throw MassifError(
                    fileName: name,
                    line: nil,
                    expected: "snapshot \(index) (the file has \(range.min() ?? 0)...\(range.max() ?? 0))",
                    found: "no such snapshot"
                )
            }
            return found
        }
        if let detailed = file.snapshots.last(where: { $0.tree != nil }) { return detailed }
        guard let last = file.snapshots.last else {
            throw MassifError(fileName: name, line: nil, expected: "a snapshot", found: "none")
        }
        return last
    }

    func output() throws(MassifError) -> String {
        let first = try MassifCommand.load(before)
        let second = try after.map { (path) throws(MassifError) in try MassifCommand.load(path) } ?? first
        let chosen = snapshot.flatMap(Self.indexes)
        let beforeSnapshot = try Self.pick(first, chosen?.0, name: before)
        let afterSnapshot = try Self.pick(second, chosen?.1, name: after ?? before)
        let folding = noFold ? AllocatorFolding.none : AllocatorFolding.mariadbDefault.adding(fold)
        let diff = SnapshotDiff(
            before: beforeSnapshot,
            after: afterSnapshot,
            folding: folding,
            threshold: SnapshotDiff.Threshold(minimumBytes: minBytes, minimumPercent: minPercent)
        )
        if json {
            var limited = diff
            limited.paths = Array(diff.paths.prefix(top))
            limited.functions = Array(diff.functions.prefix(top))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = (try? encoder.encode(limited)) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        }
        return MassifRenderer.render(diff, top: top, beforeName: before, afterName: after ?? before)
    }

    func run() throws {
        try MassifCommand.emit { try output() }
    }
}
