import Foundation
import Massif
import MySQLServer
import Plan
import Report
import RunRecord
import Valgrind

/// Takes labelled snapshots: reads the observed counters, has the monitor write the snapshot file,
/// parses it and hands both to the recorder. Owns the monitor and the observer connection.
struct Snapshotter: Sendable {
    let monitor: any HeapMonitor
    let observer: any SQLSession
    let recorder: RunRecorder
    let watch: ServerWatch
    /// The counters read at every snapshot but `during` ones (plan key `observe:`).
    let observe: [Plan.Observable]

    /// Takes one snapshot of `kind` for `step` and records it.
    ///
    /// Returns `nil` once the server is dead, or when the snapshot failed (recorded as a warning; a
    /// process that ended marks the server dead).
    func take(step: String, phase: SnapshotPhase, round: Int?, kind: SnapshotKind) async -> SnapshotRecord? {
        guard watch.death == nil else { return nil }
        let id = await recorder.reserveSnapshotID()
        let relative = RunLayout.snapshotFile(
            id: id,
            phase: phase,
            fileSafeLabel: SnapshotLabel.fileSafe(step),
            round: round
        )
        let path = recorder.directory.absolute(relative)
        let name = "snapshot \(id) (\(phase.rawValue) \(step))"
        let time = recorder.elapsed()
        let requested = ContinuousClock.now
        // In a task of its own: a cancelled step (Ctrl-C) must not abandon the relay halfway through a
        // stop-command-continue cycle.
        let monitor = self.monitor
        let failure = await Task { () -> ValgrindError? in
            do throws(ValgrindError) {
                try await monitor.snapshot(kind, to: path)
                return nil
            } catch {
                return error
            }
        }.value
        let latency = (ContinuousClock.now - requested).seconds * 1000
        // The counters are read just after the snapshot, while snapctl reads and parses its file: the
        // query then overlaps that work, and its own allocations can never be in the snapshot. Not for
        // `during` snapshots: under valgrind's single big lock the observer's queries compete with the
        // step's own thread, and would stretch the timer far beyond its interval.
        let observe = phase == .during || failure != nil ? [] : self.observe
        let observer = self.observer
        async let countersRead = CounterReader.read(observe, from: observer)
        if let failure {
            if case .processEnded = failure {
                if await !watch.check() { watch.markDead(failure.description) }
            } else {
                await recorder.warn("\(name) failed: \(failure)")
            }
            return nil
        }
        let file: MassifFile
        do {
            guard let data = FileManager.default.contents(atPath: path) else {
                await recorder.warn("\(name): \(path) was not written")
                return nil
            }
            file = try MassifFile.parse([UInt8](data), fileName: relative)
        } catch {
            await recorder.warn("\(name): \(error)")
            return nil
        }
        guard let taken = file.snapshots.last else {
            await recorder.warn("\(name): \(relative) holds no snapshot")
            return nil
        }
        let record = SnapshotRecord(
            id: id,
            step: step,
            phase: phase,
            round: round,
            file: relative,
            kind: taken.isLight ? .light : .detailed,
            time: time,
            massifTime: taken.time,
            heapBytes: taken.heapBytes,
            extraBytes: taken.extraBytes,
            stacksBytes: taken.stacksBytes,
            timelineIndex: id - 1,
            counters: await countersRead,
            triggerLatencyMilliseconds: latency
        )
        await recorder.addSnapshot(record, file: file)
        recorder.emit(.snapshot(record))
        return record
    }

    /// Takes a snapshot of the kind a plan setting asks for; `none` takes nothing.
    func take(step: String, phase: SnapshotPhase, round: Int?, planned: Plan.SnapshotKind) async -> SnapshotRecord? {
        guard let kind = planned.taken else { return nil }
        return await take(step: step, phase: phase, round: round, kind: kind)
    }

    /// Reads counters through the observer (`counters` in the REPL reads more than the plan observes).
    func readCounters(_ observables: [Plan.Observable]) async -> ServerCounters? {
        await CounterReader.read(observables, from: observer)
    }

    /// Snapshots every `interval` until cancelled, for a step's `during`: light ones, or detailed ones for the
    /// peak lens (`peak: detailed`), whose tallest names the code that held the step's peak.
    func startDuringTimer(label: String, interval: Duration, kind: SnapshotKind = .light) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                if Task.isCancelled { return }
                _ = await take(step: label, phase: .during, round: nil, kind: kind)
            }
        }
    }

    /// An xtree memory dump taken around a step's work, parsed (the lens events only).
    struct XTreeTaken: Sendable {
        var dump: XTreeDump
        var milliseconds: Double
    }

    /// Has the monitor dump the xtree (`xtmemory`) of step `index` to its file, reads it in chunks keeping only
    /// the trees the lenses use, and removes the file (tens of MB; what the step allocated is written once both
    /// dumps are in, ``recordAllocations(before:after:step:index:)``). A failure is returned as a sentence for
    /// the step's record; a process that ended marks the server dead.
    func dumpXTree(step label: String, index: Int, phase: SnapshotPhase) async -> Result<XTreeTaken, LensProblem> {
        guard watch.death == nil else { return .failure(LensProblem("the server is gone")) }
        let relative = RunLayout.xtreeFile(stepIndex: index, phase: phase, fileSafeLabel: SnapshotLabel.fileSafe(label))
        let path = recorder.directory.absolute(relative)
        let monitor = self.monitor
        let requested = ContinuousClock.now
        let failure = await Task { () -> ValgrindError? in
            do throws(ValgrindError) {
                try await monitor.xtmemory(to: path)
                return nil
            } catch {
                return error
            }
        }.value
        let milliseconds = (ContinuousClock.now - requested).seconds * 1000
        if let failure {
            if case .processEnded = failure {
                if await !watch.check() { watch.markDead(failure.description) }
                return .failure(LensProblem("the server died before the \(phase.rawValue) xtree dump: \(failure)"))
            }
            return .failure(LensProblem("the \(phase.rawValue) xtree dump failed: \(failure)"))
        }
        defer { unlink(path) }
        do throws(MassifError) {
            let dump = try await BlockingWork.run { () throws(MassifError) -> XTreeDump in
                try XTreeFileReader.read(path: path, name: relative, keeping: LoadedRun.lensEvents)
            }
            return .success(XTreeTaken(dump: dump, milliseconds: milliseconds))
        } catch {
            return .failure(LensProblem("the \(phase.rawValue) xtree dump could not be read: \(error)"))
        }
    }

    /// Writes what step `index` allocated (after minus before, per call path) to its file and records it;
    /// returns the file's relative path.
    func recordAllocations(
        before: XTreeDump,
        after: XTreeDump,
        step label: String,
        index: Int
    ) async -> Result<String, LensProblem> {
        let relative = RunLayout.allocationsFile(stepIndex: index, fileSafeLabel: SnapshotLabel.fileSafe(label))
        let directory = recorder.directory
        let written = await BlockingWork.run { () -> Result<XTreeDump, LensProblem> in
            guard let allocated = TransientLenses.allocatedBetween(before, after, step: label) else {
                return .failure(
                    LensProblem("the xtree dumps have no totB tree (the server runs --xtree-memory=allocs)")
                )
            }
            if let problem = directory.write(relative, Data(allocated.massifFile().serialized())) {
                return .failure(LensProblem(problem))
            }
            return .success(allocated)
        }
        let allocated: XTreeDump
        switch written {
        case .success(let dump): allocated = dump
        case .failure(let problem): return .failure(problem)
        }
        await recorder.addXTree(allocated, file: relative)
        return .success(relative)
    }

    /// Sends a raw monitor command and returns its output (the REPL's `monitor`).
    func command(_ text: String) async -> Result<String, ValgrindError> {
        let monitor = self.monitor
        return await Task { () -> Result<String, ValgrindError> in
            do throws(ValgrindError) {
                return .success(try await monitor.command(text))
            } catch {
                return .failure(error)
            }
        }.value
    }
}

/// Why a lens of a step could not be computed, for the step's record and the report.
struct LensProblem: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

extension Plan.SnapshotKind {
    /// The snapshot this setting takes, or `nil` for `none`.
    var taken: SnapshotKind? {
        switch self {
        case .none: nil
        case .light: .light
        case .detailed: .detailed
        }
    }
}
