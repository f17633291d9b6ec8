import Foundation
import Massif
import RunRecord

/// A run as its report reads it: the manifest and the parsed snapshot of each snapshot file it names.
///
/// The one way the report's inputs are put together, whether the run is live (the session's recorder
/// holds the parsed files), finished on disk (`snapctl report`, `snapctl repl`'s `report`), or inside a
/// bundle (read from the archive's files). Pure: the caller supplies the bytes of each file.
public struct LoadedRun: Sendable {
    /// The run's manifest.
    public var manifest: RunManifest
    /// The last snapshot of each snapshot file, by snapshot id; a file that is missing or unreadable is
    /// absent and named in ``problems``.
    public var snapshots: [Int: Snapshot]
    /// Snapshot files that could not be used, one sentence each (reported without their sites).
    public var problems: [String]
    /// What each step with the allocated lens allocated (`totB` and `totBk` trees), by relative path.
    public var xtrees: [String: XTreeDump]

    public init(
        manifest: RunManifest,
        snapshots: [Int: Snapshot],
        xtrees: [String: XTreeDump] = [:],
        problems: [String] = []
    ) {
        self.manifest = manifest
        self.snapshots = snapshots
        self.xtrees = xtrees
        self.problems = problems
    }

    /// The xtree files a manifest names (what each step with the allocated lens allocated).
    public static func xtreeFiles(of manifest: RunManifest) -> [String] {
        manifest.steps.compactMap { $0.lenses?.allocations }
    }

    /// The events the lenses read (allocated bytes and calls): what is kept of a dump, so that a run's
    /// dumps cost two trees each, not six.
    public static let lensEvents: Set<XTreeEvent> = [.totalBytes, .totalBlocks]

    /// A dump reduced to the events the lenses read.
    public static func lensTrees(_ dump: XTreeDump) -> XTreeDump {
        var kept = dump
        kept.events = dump.events.filter { lensEvents.contains($0) }
        kept.trees = dump.trees.filter { lensEvents.contains($0.key) }
        return kept
    }

    /// Decodes the manifest and parses every snapshot file it names.
    ///
    /// - Parameters:
    ///   - manifestBytes: the bytes of `manifest.json`.
    ///   - path: where the manifest came from, for errors.
    ///   - file: the bytes of a file of the run by its relative path, or `nil` when it is missing.
    /// - Throws: ``RunRecordError`` for a manifest that cannot be read; snapshot files that cannot be
    ///   read are ``problems`` instead.
    public static func assemble(
        manifestBytes: [UInt8],
        path: String,
        file: (String) -> [UInt8]?
    ) throws(RunRecordError) -> LoadedRun {
        let manifest = try RunManifest.decode(Data(manifestBytes), path: path)
        return assemble(manifest: manifest, file: file)
    }

    /// Parses every snapshot file `manifest` names.
    public static func assemble(manifest: RunManifest, file: (String) -> [UInt8]?) -> LoadedRun {
        var snapshots: [Int: Snapshot] = [:]
        var problems: [String] = []
        var xtrees: [String: XTreeDump] = [:]
        for path in xtreeFiles(of: manifest) {
            guard let bytes = file(path) else {
                problems.append("\(path) is missing; its step is reported without the allocated lens")
                continue
            }
            do {
                if let dump = XTreeDump(massif: try MassifFile.parse(bytes, fileName: path)) {
                    xtrees[path] = lensTrees(dump)
                } else {
                    problems.append("\(path) is not an xtree memory dump")
                }
            } catch {
                problems.append("\(error)")
            }
        }
        for record in manifest.snapshots {
            guard let bytes = file(record.file) else {
                problems.append("\(record.file) is missing; step \(record.step) is reported without its sites")
                continue
            }
            do {
                snapshots[record.id] = try MassifFile.parse(bytes, fileName: record.file).snapshots.last
            } catch {
                problems.append("\(error)")
            }
        }
        return LoadedRun(manifest: manifest, snapshots: snapshots, xtrees: xtrees, problems: problems)
    }

    /// The report of the run as it stands.
    public func report() -> RunReport {
        RunReport.make(manifest: manifest, snapshots: snapshots, xtrees: xtrees)
    }

    /// `report.html` for `report` (built from this run).
    public func html(_ report: RunReport) -> String {
        report.html(manifest: manifest, snapshots: snapshots, xtrees: xtrees)
    }

    /// The call path that grew most between two snapshots of the run, when both are detailed.
    public func topSite(from before: Int, to after: Int) -> Site? {
        guard let old = snapshots[before], let new = snapshots[after] else { return nil }
        return RunReport.growingSites(before: old, after: new, limit: 1).first
    }
}
