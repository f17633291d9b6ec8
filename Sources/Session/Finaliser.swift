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
        // The timeline is merged and written on a second core while the report is computed: with many
        // snapshots both take a while, and the server is stopped, so the machine is ours.
        let timeline = Self.placeInTimeline(&manifest, files: files)
        let timelineWritten = Task { Self.writeTimeline(timeline, directory: directory) }

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
        if let problem = await timelineWritten.value { warn(problem) }
        // The page, the largest of the three, on a second core beside the text and the JSON.
        let (page, finishedReport) = (run, report)
        let html = Task { Data(page.html(finishedReport).utf8) }
        var written: [String?] = [
            directory.write(RunLayout.reportText, Data(finishedReport.text().utf8)),
            directory.write(RunLayout.reportJSON, finishedReport.jsonData()),
        ]
        written.append(directory.write(RunLayout.reportHTML, await html.value))
        run.manifest.warnings += written.compactMap { $0 }
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

    /// The snapshot files in timeline order, each record given its position in `timeline.massif`.
    static func placeInTimeline(
        _ manifest: inout RunManifest,
        files: [Int: MassifFile]
    ) -> [(name: String, file: MassifFile)] {
        let ordered = manifest.snapshots.compactMap { record in files[record.id].map { (record, $0) } }
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
        return ordered.map { ($0.0.file, $0.1) }
    }

    /// Merges the snapshot files into `timeline.massif`; returns a problem to warn about.
    static func writeTimeline(_ ordered: [(name: String, file: MassifFile)], directory: RunDirectory) -> String? {
        guard !ordered.isEmpty else { return nil }
        do {
            let timeline = try MassifFile.merge(ordered.map(\.file), names: ordered.map(\.name))
            return directory.write(RunLayout.timeline, Data(timeline.serialized()))
        } catch {
            return "\(RunLayout.timeline) could not be merged: \(error)"
        }
    }
}
