import Plan
import RunRecord

/// Finds snapshots by the labels `snaps` lists.
public enum SnapshotLookup {
    /// The snapshot labelled `name`; `#N` or a plain number names snapshot N when no label is `name`.
    public static func find(_ name: String, in snapshots: [SnapshotRecord]) -> SnapshotRecord? {
        if let found = snapshots.last(where: { $0.label == name }) { return found }
        let number = name.hasPrefix("#") ? String(name.dropFirst()) : name
        if let id = Int(number) { return snapshots.first { $0.id == id } }
        return nil
    }

    /// Why `name` names no snapshot, listing the labels there are.
    public static func unknown(_ name: String, in snapshots: [SnapshotRecord]) -> String {
        guard !snapshots.isEmpty else {
            return "no snapshot '\(name)': there are no snapshots yet (snap LABEL takes one)"
        }
        let labels = snapshots.map(\.label)
        var message = "no snapshot '\(name)'"
        if let near = EditDistance.closest(to: name, among: labels, within: 2) {
            message += "; did you mean '\(near)'?"
        }
        return message + "; the snapshots are: " + labels.joined(separator: ", ")
    }
}
