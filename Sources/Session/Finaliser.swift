import Foundation
import Massif
import Report
import RunRecord

/// Ends a run: monitor detached, connections closed, server stopped, then the record completed:
/// `massif.final.out` summarised, `timeline.massif` merged, the outcome and exit status decided,
/// reports and `SHA256SUMS` written. Runs to the end whatever happened before.
struct Finaliser {
    let recorder: RunRecorder
    /// What the start opened.
    let opened: Opened

    func finalise(_ ending: Ending) async -> SessionResult {
        recorder.emit(.finalising("closing the monitor session and shutting the server down"))
        var stop = ServerStop()
        await opened.monitor?.close()
        await opened.executor?.closeAll()
        await opened.observer?.close()
        opened.watch?.finish()
        await opened.replication?.close()
        if let server = opened.server { stop = await server.stop() }
        // The primary after the replica, whose IO thread would otherwise retry against a stopped primary.
        var primaryStop: ServerStop?
        if let primary = opened.primary { primaryStop = await primary.stop() }
        let log = recorder.log
        let directory = recorder.directory
        var manifest = await recorder.manifest
        let files = await recorder.files
        if let shutdown = stop.shutdown {
            manifest.server?.shutdown = shutdown
            log.write("shutdown: \(shutdown)")
        }
        func warn(_ message: String) {
            manifest.warnings.append(message)
            log.write("warning: " + message)
            recorder.emit(.warning(message))
        }
        stop.warnings.forEach(warn)
        if let primaryStop {
            if let shutdown = primaryStop.shutdown {
                manifest.primary?.shutdown = shutdown
                log.write("primary shutdown: \(shutdown)")
            }
            primaryStop.warnings.forEach(warn)
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
        } else if stop.expectsMassifFinal {
            warn("Massif wrote no \(RunLayout.massifFinal) (it does not when the server is killed)")
        }

        manifest.snapshots.sort { $0.id < $1.id }
        if let problem = Self.writeTimeline(&manifest, files: files, directory: directory) { warn(problem) }

        var trees: [Int: Massif.Snapshot] = [:]
        for (id, file) in files { trees[id] = file.snapshots.last }
        var run = LoadedRun(manifest: manifest, snapshots: trees, xtrees: await recorder.xtrees)
        var report = run.report()
        let outcome = StepRules.verdict(ending, report: report)
        run.manifest.outcome = outcome
        run.manifest.finishedAt = RunDirectory.iso8601()
        run.manifest.durationSeconds = recorder.elapsed()
        report.status = outcome.status
        report.exitCode = outcome.exitCode
        report.message = outcome.message

        let exitCode = outcome.exitCode ?? 4
        log.write(
            "outcome: \(outcome.status.rawValue), exit \(exitCode)" + (outcome.message.map { ": " + $0 } ?? "")
        )
        log.close()
        for (file, data) in [
            (RunLayout.reportText, Data(report.text().utf8)),
            (RunLayout.reportJSON, report.jsonData()),
            (RunLayout.reportHTML, Data(run.html(report).utf8)),
        ] {
            if let problem = directory.write(file, data) { run.manifest.warnings.append(problem) }
        }
        run.manifest.files =
            (directory.files().filter {
                RunLayout.isChecksummed($0) && !$0.hasPrefix(RunLayout.snapshotsDirectory + "/")
            }
            + [RunLayout.manifest, RunLayout.checksums]).reduce(into: [String]()) {
                if !$0.contains($1) { $0.append($1) }
            }.sorted()
        await recorder.replaceManifest(run.manifest)
        await recorder.persist()
        _ = directory.writeChecksums()
        return SessionResult(
            runDirectory: directory.path,
            manifest: run.manifest,
            report: report,
            exitCode: exitCode
        )
    }

    /// Merges every snapshot file into `timeline.massif` and sets each record's position in it; returns
    /// a problem to warn about.
    static func writeTimeline(
        _ manifest: inout RunManifest,
        files: [Int: MassifFile],
        directory: RunDirectory
    )
        -> String?
    {
        let ordered = manifest.snapshots.compactMap { record in files[record.id].map { (record, $0) } }
        guard !ordered.isEmpty else { return nil }
        do {
            let timeline = try MassifFile.merge(ordered.map(\.1), names: ordered.map(\.0.file))
            var position = 0
            var positions: [Int: Int] = [:]
            for (record, file) in ordered {
                positions[record.id] = position
                position += file.snapshots.count
            }
            for index in manifest.snapshots.indices {
                if let position = positions[manifest.snapshots[index].id] {
                    manifest.snapshots[index].timelineIndex = position
                }
            }
            return directory.write(RunLayout.timeline, Data(timeline.serialized()))
        } catch {
            return "\(RunLayout.timeline) could not be merged: \(error)"
        }
    }
}
