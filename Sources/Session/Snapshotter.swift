import Foundation
import Massif
import MySQLServer
import Plan
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
        // Not for `during` snapshots: under valgrind's single big lock the observer's queries compete
        // with the step's own thread, and would stretch the timer far beyond its interval.
        let counters = phase == .during ? nil : await readCounters(observe)
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
            counters: counters,
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

    /// Light snapshots every `interval` until cancelled, for a step's `during`.
    func startDuringTimer(label: String, interval: Duration) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                if Task.isCancelled { return }
                _ = await take(step: label, phase: .during, round: nil, kind: .light)
            }
        }
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
