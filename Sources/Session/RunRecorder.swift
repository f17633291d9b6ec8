import Foundation
import Massif
import Report
import RunRecord
import Synchronization

/// The record of a run: the manifest, the parsed snapshot files, and their persistence in the run
/// directory. The only writer of `manifest.json`.
///
/// An actor because the `during` timer records snapshots while the step that owns it runs.
actor RunRecorder {
    nonisolated let directory: RunDirectory
    nonisolated let log: LogWriter
    /// When the run started; `time_s` and `start_s` count from here.
    nonisolated let started: ContinuousClock.Instant
    nonisolated let events: @Sendable (SessionEvent) -> Void
    private(set) var manifest: RunManifest
    /// Parsed snapshot files by snapshot id: the trees the report compares, and the timeline's parts.
    private(set) var files: [Int: MassifFile] = [:]
    /// The xtree memory dumps of the allocated lens, by relative path (only the events the lenses read).
    private(set) var xtrees: [String: XTreeDump] = [:]
    private var nextSnapshotID = 1
    /// When the manifest was last written.
    private var lastPersisted = ContinuousClock.now

    init(manifest: RunManifest, directory: RunDirectory, events: @escaping @Sendable (SessionEvent) -> Void) {
        self.manifest = manifest
        self.directory = directory
        self.events = events
        self.started = ContinuousClock.now
        self.log = LogWriter(path: directory.absolute(RunLayout.snapctlLog))
    }

    /// Seconds since the run started.
    nonisolated func elapsed() -> Double { (ContinuousClock.now - started).seconds }

    nonisolated func emit(_ event: SessionEvent) { events(event) }

    /// A problem that did not stop the run: kept in the manifest, the log and shown.
    func warn(_ message: String) {
        manifest.warnings.append(message)
        log.write("warning: " + message)
        emit(.warning(message))
    }

    /// Writes the manifest as it stands, so that a run killed outright still leaves its record.
    func persist() {
        lastPersisted = ContinuousClock.now
        manifest.snapshots.sort { $0.id < $1.id }
        if let problem = directory.write(RunLayout.manifest, manifest.jsonData()) { log.write("error: " + problem) }
    }

    /// Writes the manifest after a step: always when it failed, else at most a few times a second
    /// (rewriting a manifest of hundreds of steps after each would cost more than the steps).
    func persistAfterStep(failed: Bool) {
        if failed || ContinuousClock.now - lastPersisted >= .milliseconds(250) { persist() }
    }

    // MARK: Server

    func setServer(_ info: RunManifest.ServerInfo) { manifest.server = info }

    func updateServer(_ change: @Sendable (inout RunManifest.ServerInfo) -> Void) {
        guard var server = manifest.server else { return }
        change(&server)
        manifest.server = server
    }

    func setPrimary(_ info: RunManifest.PrimaryInfo?) { manifest.primary = info }

    func updatePrimary(_ change: @Sendable (inout RunManifest.PrimaryInfo) -> Void) {
        guard var primary = manifest.primary else { return }
        change(&primary)
        manifest.primary = primary
    }

    // MARK: Steps

    /// Replaces the steps (an interactive run starts with none and records them as they are done).
    func resetSteps() {
        manifest.steps = []
        manifest.budgets.maxGrowth = [:]
    }

    /// Appends a step about to run; returns its position.
    func appendStep(_ record: StepRecord, maxGrowth: Int64?) -> Int {
        manifest.steps.append(record)
        if let maxGrowth { manifest.budgets.maxGrowth[record.label] = maxGrowth }
        return manifest.steps.count - 1
    }

    /// Records what a step did.
    func recordStep(_ record: StepRecord, at position: Int) {
        manifest.steps[position] = record
    }

    // MARK: Snapshots

    /// The id of the next snapshot (the number in its file name).
    func reserveSnapshotID() -> Int {
        defer { nextSnapshotID += 1 }
        return nextSnapshotID
    }

    /// The id the next snapshot will get.
    var upcomingSnapshotID: Int { nextSnapshotID }

    func addSnapshot(_ record: SnapshotRecord, file: MassifFile) {
        files[record.id] = file
        manifest.snapshots.append(record)
    }

    /// Records a parsed xtree memory dump (its lens events only) by its path in the run directory.
    func addXTree(_ dump: XTreeDump, file: String) {
        xtrees[file] = LoadedRun.lensTrees(dump)
    }

    /// A recorded xtree memory dump.
    func xtree(_ file: String) -> XTreeDump? { xtrees[file] }

    /// The parsed last snapshot of snapshot `id`.
    func tree(id: Int) -> Massif.Snapshot? { files[id]?.snapshots.last }

    /// The snapshots with an id of at least `id`, in order.
    func snapshots(from id: Int) -> [SnapshotRecord] {
        // Snapshots are appended in about the order taken (a `during` snapshot may land a little late):
        // scan back from the end only as far as needed,
        // so that a step of a long run does not walk every snapshot before it.
        var taken: [SnapshotRecord] = []
        var position = manifest.snapshots.endIndex
        while position > manifest.snapshots.startIndex {
            position -= 1
            let record = manifest.snapshots[position]
            if record.id >= id {
                taken.append(record)
            } else if record.id < id - 64 {
                break
            }
        }
        return taken.sorted { $0.id < $1.id }
    }

    /// The run as the report reads it, from the parsed files in memory.
    func loaded() -> LoadedRun {
        var trees: [Int: Massif.Snapshot] = [:]
        for (id, file) in files { trees[id] = file.snapshots.last }
        return LoadedRun(manifest: manifest, snapshots: trees, xtrees: xtrees)
    }

    // MARK: End

    /// Replaces the manifest at finalisation, when nothing else writes any more.
    func replaceManifest(_ final: RunManifest) { manifest = final }
}

/// Appends timestamped lines to `logs/snapctl.log`.
final class LogWriter: Sendable {
    private let handle: FileHandle?
    /// One formatter for every line: making one costs more than writing the line. Milliseconds, because
    /// the phases of a start (identification, the datadir copy, the observer) take tens of them.
    private let stamp = Mutex(RunDirectory.iso8601Formatter(milliseconds: true))

    init(path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
    }

    func write(_ line: String) {
        let now = stamp.withLock { $0.string(from: Date()) }
        try? handle?.write(contentsOf: Data((now + " " + line + "\n").utf8))
    }

    func close() { try? handle?.close() }
}
