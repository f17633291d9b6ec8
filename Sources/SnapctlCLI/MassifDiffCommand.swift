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
            Xtree memory dumps (xtmemory, both formats) are read as one snapshot per event: --snapshot takes the
            event names (curB, curBk, totB, totBk, totFdB, totFdBk), e.g. --snapshot totB for what was allocated
            between two dumps; the default is curB, the bytes in use.
            """
    )

    @Argument(help: "The massif file with the 'before' snapshot.")
    var before: String

    @Argument(help: "The massif file with the 'after' snapshot (default: the same file).")
    var after: String?

    @Option(help: "Snapshots to compare, I in the first file and J in the second, as I:J (numbers or xtree events).")
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
        if let snapshot, Self.selectors(snapshot) == nil {
            throw ValidationError(
                "--snapshot must be I:J with two snapshot numbers or xtree event names (or one event name), "
                    + "got '\(snapshot)'"
            )
        }
        guard top >= 0 else { throw ValidationError("--top must not be negative") }
    }

    /// Which snapshot of a file to compare.
    enum Selector: Equatable {
        case index(Int)
        case event(XTreeEvent)

        init?(_ text: Substring) {
            if let event = XTreeEvent(rawValue: String(text)) {
                self = .event(event)
            } else if let number = Int(text), number >= 0 {
                self = .index(number)
            } else {
                return nil
            }
        }
    }

    static func selectors(_ text: String) -> (Selector, Selector)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 1, let event = XTreeEvent(rawValue: text) { return (.event(event), .event(event)) }
        guard parts.count == 2, let first = Selector(parts[0]), let second = Selector(parts[1]) else { return nil }
        return (first, second)
    }

    static func indexes(_ text: String) -> (Int, Int)? {
        guard case (.index(let first), .index(let second))? = selectors(text) else { return nil }
        return (first, second)
    }

    /// The snapshot numbered `index`, or by default the last one with a tree (else the last one).
    static func pick(_ file: MassifFile, _ index: Int?, name: String) throws(MassifError) -> Snapshot {
        try pick(file, index.map(Selector.index), name: name)
    }

    /// The chosen snapshot; by default curB in an xtree dump, else the last one with a tree (else the last one).
    static func pick(_ file: MassifFile, _ selector: Selector?, name: String) throws(MassifError) -> Snapshot {
        switch selector {
        case .index(let index):
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
        case .event(let event):
            guard let found = file.snapshots.first(where: { $0.tree?.top.xtreeEvent == event }) else {
                let present = file.snapshots.compactMap { $0.tree?.top.xtreeEvent?.name }
                throw MassifError(
                    fileName: name,
                    line: nil,
                    expected: present.isEmpty
                        ? "an xtree dump with event \(event.name)"
                        : "event \(event.name) (the dump has \(present.joined(separator: ", ")))",
                    found: present.isEmpty ? "a massif file without xtree events" : "no such event"
                )
            }
            return found
        case nil:
            if XTreeDump.isXTree(file) { return try pick(file, .event(.currentBytes), name: name) }
            if let detailed = file.snapshots.last(where: { $0.tree != nil }) { return detailed }
            guard let last = file.snapshots.last else {
                throw MassifError(fileName: name, line: nil, expected: "a snapshot", found: "none")
            }
            return last
        }
    }

    func output() throws(MassifError) -> String {
        let first = try MassifCommand.load(before)
        let second = try after.map { (path) throws(MassifError) in try MassifCommand.load(path) } ?? first
        let chosen = snapshot.flatMap(Self.selectors)
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
