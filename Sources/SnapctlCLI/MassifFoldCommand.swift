import ArgumentParser
import Foundation
import Massif

/// `snapctl massif fold FILE [--snapshot I] [--diff A B]`: a snapshot's tree as collapsed stacks, for
/// `flamegraph.pl`, inferno or speedscope.
struct MassifFoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fold",
        abstract: "Write a snapshot's allocation tree as collapsed stacks (frame;frame;frame bytes).",
        discussion: """
            Each line is a call stack, outermost caller first and allocation site last, and the bytes allocated \
            with exactly that stack; the lines of one snapshot add up to its heap (mem_heap_B) exactly. With \
            --diff A B each line is the signed change from snapshot A to snapshot B, and the lines add up to \
            B's heap minus A's. By default the file's last detailed snapshot is folded. Unnamed frames keep \
            their address (??? 0x1234). Feed the output to flamegraph.pl, inferno-flamegraph or speedscope.
            """
    )

    @Argument(help: "The massif file.")
    var file: String

    @Option(help: "The snapshot number to fold (default: the last detailed snapshot).")
    var snapshot: Int?

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Fold the change between two snapshots instead: --diff A B.", valueName: "A B")
    )
    var diff: [Int] = []

    func validate() throws {
        if !diff.isEmpty && diff.count != 2 {
            throw ValidationError("--diff takes two snapshot numbers, A and B, got \(diff.count)")
        }
        if !diff.isEmpty && snapshot != nil {
            throw ValidationError("--snapshot and --diff exclude each other; --diff A B names both snapshots")
        }
        if (diff + (snapshot.map { [$0] } ?? [])).contains(where: { $0 < 0 }) {
            throw ValidationError("snapshot numbers are 0 or more")
        }
    }

    func output() throws(MassifError) -> String {
        let massif = try MassifCommand.load(file)
        if diff.count == 2 {
            let before = try tree(of: try MassifDiffCommand.pick(massif, diff[0], name: file))
            let after = try tree(of: try MassifDiffCommand.pick(massif, diff[1], name: file))
            return CollapsedStacks.render(CollapsedStacks.diff(before: before, after: after))
        }
        if let snapshot {
            return CollapsedStacks.render(
                CollapsedStacks.fold(try tree(of: try MassifDiffCommand.pick(massif, snapshot, name: file)))
            )
        }
        guard let detailed = massif.snapshots.last(where: { $0.tree != nil }), let tree = detailed.tree else {
            throw MassifError(
                fileName: file,
                line: nil,
                expected: "a detailed snapshot to fold",
                found: "\(massif.snapshots.count) light snapshot\(massif.snapshots.count == 1 ? "" : "s") with no "
                    + "tree; take a detailed snapshot (detailed_snapshot, or snapshots: detailed in the plan)"
            )
        }
        return CollapsedStacks.render(CollapsedStacks.fold(tree))
    }

    /// The tree of a snapshot; a light one is an error that says there is no tree.
    func tree(of snapshot: Snapshot) throws(MassifError) -> HeapTree {
        guard let tree = snapshot.tree else {
            throw MassifError(
                fileName: file,
                line: nil,
                expected: "a detailed snapshot to fold",
                found: "snapshot \(snapshot.index) is light (heap_tree=empty): it has totals only and no tree; "
                    + "fold a detailed one (snapctl massif print \(file) lists them)"
            )
        }
        return tree
    }

    func run() throws {
        try MassifCommand.emit { try output() }
    }
}
