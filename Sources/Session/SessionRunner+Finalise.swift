import Foundation
import Massif
import MySQLServer
import Report
import RunRecord

extension SessionRunner {
    /// Closes everything and writes the record: monitor detached, connections closed, server shut down,
    /// timeline merged, manifest, reports and SHA256SUMS written. Runs to the end whatever happened before.
    func finalise(_ ending: Ending) async -> SessionResult {
        emit(.finalising("closing the monitor session and shutting the server down"))
        if let monitor {
            await monitor.close()
            self.monitor = nil
        }
        for connection in connections.values { await connection.close() }
        connections = [:]
        if let observer {
            await observer.close()
            self.observer = nil
        }
        if case .managed(let managed) = server {
            let outcome = await managed.shutdown()
            manifest.server?.shutdown = outcome.description
            log.write("shutdown: \(outcome)")
            do {
                try await managed.removeDatadir()
            } catch {
                warn("the datadir was kept: \(error)")
            }
            // What is left of RUN/server is its tmpdir and nothing else once the server has stopped.
            try? FileManager.default.removeItem(atPath: directory.absolute(RunLayout.serverDirectory + "/tmp"))
            rmdir(directory.absolute(RunLayout.serverDirectory))
        }

        if let data = directory.read(RunLayout.massifFinal), !data.isEmpty {
            do {
                let final = try MassifFile.parse([UInt8](data), fileName: RunLayout.massifFinal)
                manifest.massifFinal = RunManifest.MassifFinal(
                    file: RunLayout.massifFinal,
                    snapshots: final.snapshots.count,
                    peakTotal: final.snapshots.map(\.totalBytes).max()
                )
            } catch {
                warn("\(RunLayout.massifFinal) could not be read: \(error)")
            }
        } else if case .managed = server {
            warn("Massif wrote no \(RunLayout.massifFinal) (it does not when the server is killed)")
        }

        manifest.snapshots.sort { $0.id < $1.id }
        let ordered = manifest.snapshots.compactMap { record in files[record.id].map { (record, $0) } }
        if !ordered.isEmpty {
            do {
                let timeline = try MassifFile.merge(ordered.map(\.1), names: ordered.map(\.0.file))
                var position = 0
                for (record, file) in ordered {
                    if let index = manifest.snapshots.firstIndex(where: { $0.id == record.id }) {
                        manifest.snapshots[index].timelineIndex = position
                    }
                    position += file.snapshots.count
                }
                if let problem = directory.write(RunLayout.timeline, Data(timeline.serialized())) { warn(problem) }
            } catch {
                warn("\(RunLayout.timeline) could not be merged: \(error)")
            }
        }

        var trees: [Int: Massif.Snapshot] = [:]
        for (id, file) in files { trees[id] = file.snapshots.last }
        var report = RunReport.make(manifest: manifest, snapshots: trees)
        let exitCode: Int32
        var status = ending.status
        switch ending.status {
        case .interrupted: exitCode = 130
        case .startFailed: exitCode = ending.exitCode ?? 4
        case .stepFailed, .serverDied: exitCode = 4
        case .completed, .running:
            status = .completed
            exitCode = report.withinBudgets ? 0 : 3
        }
        var message = ending.message
        if status == .completed && exitCode == 3 {
            let failed =
                report.budgets.filter { !$0.passed }.map { $0.step.map { "max_growth of \($0)" } ?? "max_heap" }
                + report.leaks.filter(\.flagged).map { "leak in \($0.step)" }
            message = "budget exceeded: " + failed.joined(separator: ", ")
        }
        manifest.outcome = RunManifest.Outcome(status: status, exitCode: exitCode, message: message, step: ending.step)
        manifest.finishedAt = RunDirectory.iso8601()
        manifest.durationSeconds = elapsed()
        report.status = status
        report.exitCode = exitCode
        report.message = message

        log.write("outcome: \(status.rawValue), exit \(exitCode)" + (message.map { ": " + $0 } ?? ""))
        log.close()
        if let problem = directory.write(RunLayout.reportText, text: report.text()) {
            manifest.warnings.append(problem)
        }
        if let problem = directory.write(RunLayout.reportJSON, report.jsonData()) { manifest.warnings.append(problem) }
        if let problem = directory.write(RunLayout.reportHTML, text: report.html(manifest: manifest, snapshots: trees))
        {
            manifest.warnings.append(problem)
        }
        manifest.files =
            (directory.files().filter {
                RunLayout.isChecksummed($0) && !$0.hasPrefix(RunLayout.snapshotsDirectory + "/")
            }
            + [RunLayout.manifest, RunLayout.checksums]).reduce(into: [String]()) {
                if !$0.contains($1) { $0.append($1) }
            }.sorted()
        persistManifest()
        _ = directory.writeChecksums()
        return SessionResult(runDirectory: directory.path, manifest: manifest, report: report, exitCode: exitCode)
    }
}
