import Foundation
import Massif
import MySQLServer
import Plan
import RunRecord
import Valgrind

extension SessionRunner {
    /// Reads the observed counters, then takes a snapshot through the monitor, parses it and records it.
    ///
    /// Returns `nil` for `kind: none`, once the server is dead, or when the snapshot failed (recorded as
    /// a warning; a process that ended marks the server dead).
    func snapshot(step: String, phase: SnapshotPhase, round: Int?, kind: Plan.SnapshotKind) async -> SnapshotRecord? {
        guard kind != .none, serverDeath == nil, let monitor else { return nil }
        let id = nextSnapshotID
        nextSnapshotID += 1
        let relative = RunLayout.snapshotFile(
            id: id,
            phase: phase,
            fileSafeLabel: SnapshotLabel.fileSafe(step),
            round: round
        )
        let path = directory.absolute(relative)
        // Not for `during` snapshots: under valgrind's single big lock the observer's queries compete
        // with the step's own thread, and would stretch the timer far beyond its interval.
        let counters = phase == .during ? nil : await readCounters()
        let time = elapsed()
        let requested = ContinuousClock.now
        // In a task of its own: a cancelled step (Ctrl-C) must not abandon the relay halfway through a
        // stop-command-continue cycle.
        let outcome = await Task { () -> ValgrindError? in
            do throws(ValgrindError) {
                if kind == .detailed {
                    try await monitor.detailedSnapshot(to: path)
                } else {
                    try await monitor.snapshot(to: path)
                }
                return nil
            } catch {
                return error
            }
        }.value
        let latency = (ContinuousClock.now - requested).seconds * 1000
        if let error = outcome {
            if case .processEnded = error {
                _ = await serverHasDied()
                if serverDeath == nil { serverDeath = error.description }
            } else {
                warn("snapshot \(id) (\(phase.rawValue) \(step)) failed: \(error)")
            }
            return nil
        }
        let file: MassifFile
        do {
            guard let data = FileManager.default.contents(atPath: path) else {
                warn("snapshot \(id) (\(phase.rawValue) \(step)): \(path) was not written")
                return nil
            }
            file = try MassifFile.parse([UInt8](data), fileName: relative)
        } catch {
            warn("snapshot \(id) (\(phase.rawValue) \(step)): \(error)")
            return nil
        }
        guard let taken = file.snapshots.last else {
            warn("snapshot \(id) (\(phase.rawValue) \(step)): \(relative) holds no snapshot")
            return nil
        }
        files[id] = file
        let record = SnapshotRecord(
            id: id,
            step: step,
            phase: phase,
            round: round,
            file: relative,
            kind: taken.isLight ? "light" : "detailed",
            time: time,
            massifTime: taken.time,
            heapBytes: taken.heapBytes,
            extraBytes: taken.extraBytes,
            stacksBytes: taken.stacksBytes,
            timelineIndex: id - 1,
            counters: counters,
            triggerLatencyMilliseconds: latency
        )
        manifest.snapshots.append(record)
        emit(.snapshot(record))
        return record
    }

    /// The `observe:` counters, read through the observer connection; failures are kept in the record,
    /// never fatal.
    func readCounters() async -> ServerCounters? {
        await readCounters(plan.observe)
    }

    /// The given counters, read through the observer connection (`counters` in the REPL reads more than
    /// the plan observes).
    func readCounters(_ observables: [Plan.Observable]) async -> ServerCounters? {
        guard !observables.isEmpty, let observer else { return nil }
        var counters = ServerCounters()
        var problems: [String] = []
        for observable in observables {
            do {
                switch observable {
                case .memoryUsed:
                    let result = try await observer.execute("SHOW GLOBAL STATUS LIKE 'Memory_used'")
                    counters.memoryUsed = result.rows.first.flatMap { $0.count >= 2 ? $0[1] : nil }.flatMap {
                        UInt64($0)
                    }
                case .processlist:
                    let result = try await observer.execute(
                        "SELECT ID, USER, COMMAND, MEMORY_USED FROM information_schema.PROCESSLIST ORDER BY ID"
                    )
                    counters.processlist = result.rows.compactMap { row in
                        guard row.count == 4, let id = row[0].flatMap({ UInt64($0) }),
                            let memory = row[3].flatMap({ UInt64($0) })
                        else { return nil }
                        return ProcessMemory(id: id, user: row[1] ?? "", command: row[2] ?? "", memoryUsed: memory)
                    }
                case .globalStatus:
                    let result = try await observer.execute("SHOW GLOBAL STATUS")
                    var values: [String: Int64] = [:]
                    for row in result.rows where row.count >= 2 {
                        if let name = row[0], let value = row[1].flatMap({ Int64($0) }) { values[name] = value }
                    }
                    counters.globalStatus = values
                case .performanceSchema:
                    let result = try await observer.execute(
                        "SELECT SUM(CURRENT_NUMBER_OF_BYTES_USED) FROM performance_schema.memory_summary_global_by_event_name"
                    )
                    counters.performanceSchemaBytes = result.rows.first.flatMap { $0.first ?? nil }.flatMap {
                        Int64($0)
                    }
                }
            } catch {
                problems.append("\(observable.rawValue): \(error)")
            }
        }
        if !problems.isEmpty { counters.error = problems.joined(separator: "; ") }
        return counters
    }
}
