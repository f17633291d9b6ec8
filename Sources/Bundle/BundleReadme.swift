import Massif
import Report
import RunRecord
import TextFormat

/// README.txt of a bundle: what happened, in prose and figures, for a maintainer who has not seen the
/// run, and the one command that reproduces it.
///
/// Pure: built from the manifest, the report and env.json alone.
public enum BundleReadme {
    /// How many growing steps the README lists.
    public static let topSteps = 5

    /// - Parameter archiveName: the bundle's file name, for the commands (`quickstart-demo.tar.gz`).
    public static func text(
        manifest: RunManifest,
        report: RunReport,
        environment: BundleEnvironment,
        archiveName: String
    ) -> String {
        var lines: [String] = []
        let title = "snapctl bundle: \(manifest.plan.name)"
        lines += [title, String(repeating: "=", count: title.count), ""]
        if let description = manifest.plan.description { lines += wrap(description) + [""] }

        lines += ["What happened", "-------------"]
        var prose = "snapctl \(manifest.tool.version) ran the plan '\(manifest.plan.name)' on \(manifest.startedAt)"
        if let server = manifest.server {
            prose += " against \(flavorName(server.flavor)) \(server.version)"
            prose += server.mode == "managed" ? " (a server snapctl started" : " (a running server snapctl attached to"
            prose += server.valgrindVersion.map { ", under Valgrind \($0) Massif)" } ?? ", under Valgrind Massif)"
        }
        let ran = manifest.steps.filter { $0.outcome != .notRun }.count
        prose += ". It ran \(ran) of \(manifest.steps.count) steps and took \(manifest.snapshots.count) heap snapshots"
        if let duration = manifest.durationSeconds { prose += " in \(Format.seconds(duration))" }
        prose += ". "
        prose += outcomeSentence(manifest)
        lines += wrap(prose)

        let growing = report.steps.filter { ($0.delta ?? 0) > 0 }.sorted { ($0.delta ?? 0) > ($1.delta ?? 0) }
        if let top = growing.first, let delta = top.delta {
            var sentence = "The heap grew most in step \(top.index) '\(top.label)': \(Format.signedBytes(delta))"
            if let before = top.before, let after = top.after {
                sentence += " (\(Format.bytes(before)) -> \(Format.bytes(after)))"
            }
            if let site = top.sites.first {
                sentence += ", most of it in \(RunReport.shortName(site.function)) (\(Format.signedBytes(site.delta)))"
            }
            lines += [""] + wrap(sentence + ".")
        }
        if let peak = report.measuredPeak {
            var sentence = "The largest heap measured was \(Format.bytes(peak))"
            if let source = report.measuredPeakSource { sentence += " (\(source))" }
            if let envelope = report.envelope {
                sentence +=
                    "; the server's configuration allows up to \(Format.bytes(Int(clamping: envelope.total)))"
                    + " (global buffers \(Format.bytes(Int(clamping: envelope.globalBuffers))) plus"
                    + " \(envelope.maxConnections) connections of \(Format.bytes(Int(clamping: envelope.perSession))))"
            }
            lines += [""] + wrap(sentence + ".")
        }

        if !growing.isEmpty {
            lines += ["", "Steps that grew the heap most (after minus before, heap + extra + stacks)"]
            for step in growing.prefix(topSteps) {
                var line =
                    "  [\(step.index)] " + Format.pad(step.label, 24) + " "
                    + Format.leftPad(Format.signedBytes(step.delta ?? 0), 12)
                if let site = step.sites.first {
                    line += "  " + RunReport.shortName(site.function) + " " + Format.signedBytes(site.delta)
                }
                lines.append(line)
            }
        }

        lines += ["", "Budgets and leaks"]
        if report.budgets.isEmpty && report.leaks.isEmpty {
            lines.append("  The plan set no budget and repeated no step, so nothing was checked.")
        }
        for budget in report.budgets {
            let name = budget.step.map { "max_growth of step '\($0)'" } ?? "max_heap"
            let measured = budget.measured.map { Format.bytes($0) } ?? "not measured"
            let limit = Format.bytes(Int(clamping: budget.limit))
            lines.append("  \(name): \(measured) of \(limit): \(budget.passed ? "kept" : "EXCEEDED")")
        }
        for leak in report.leaks {
            lines.append(
                "  leak check of step '\(leak.step)': \(Format.signedBytes(leak.growth)) over \(leak.rounds) rounds, growing in "
                    + "\(leak.growingRounds) of \(max(leak.rounds - 1, 0)): \(leak.flagged ? "FLAGGED" : "not flagged")"
            )
        }

        lines += ["", "Reproduce", "---------"]
        if environment.replayable {
            lines += [
                "    snapctl replay \(archiveName)", "",
            ]
            lines += wrap(
                "This runs the plan again on your machine with the recorded server options (it needs valgrind and "
                    + "the server binary), then prints each step's recorded and new heap change side by side. It exits 0 "
                    + "when the largest growth reproduces (within 10% or 64 KiB), 3 when it does not."
            )
        } else {
            lines += wrap(
                "NOT REPLAYABLE: this bundle was packed with --redact-literals, so the SQL string and number literals "
                    + "of its plan, manifest and logs are replaced by '?'. Ask for a bundle packed without it to replay."
            )
        }
        lines += [
            "", "Check it first (every file against SHA256SUMS):", "", "    snapctl bundle verify \(archiveName)",
            "    sha256sum -c SHA256SUMS        (inside the unpacked folder)", "",
        ]
        lines += [
            "The SQL as a mysqltest file, for the server's own test suite:", "",
            "    snapctl export mtr plan.yaml -o bug.test",
        ]

        lines += ["", "Versions", "--------"]
        lines.append("  snapctl   \(environment.snapctl.runVersion) (packed with \(environment.snapctl.version))")
        if let valgrind = environment.valgrind { lines.append("  valgrind  \(valgrind.version)") }
        if let server = environment.server {
            lines.append("  server    \(flavorName(server.flavor)) \(server.version) (\(server.binary ?? server.mode))")
        }
        lines.append("  system    \(environment.os.name), \(environment.os.kernel) \(environment.os.machine)")
        lines.append("  cpu       \(environment.cpu.model) x \(environment.cpu.count)")

        lines += ["", "Files", "-----"]
        let files: [(String, String)] = [
            (RunLayout.manifest, "the run record: steps, snapshots, server, outcome (docs/manifest.md)"),
            (RunLayout.planFile, "the plan as run"),
            (RunLayout.reportText, "the report; report.html is the same as one page with a timeline"),
            (RunLayout.snapshotsDirectory + "/", "one Massif file per labelled snapshot"),
            (RunLayout.timeline, "every labelled snapshot in one file: ms_print timeline.massif"),
            (RunLayout.logsDirectory + "/", "the server's, valgrind's and snapctl's logs"),
            (BundleLayout.environment, "versions, system, CPU, the allowed environment variables"),
            (RunLayout.checksums, "a SHA-256 of every other file"),
        ]
        for (name, what) in files { lines.append("  " + Format.pad(name, 18) + " " + what) }

        lines += ["", "Redaction", "---------"]
        var redaction =
            "Host names of the packing machine are replaced by \(environment.hostPlaceholder). env.json lists only "
            + "allowed environment variables (locale, time zone, terminal, PATH, malloc and valgrind settings)"
        if environment.redactedVariables.isEmpty {
            redaction += "; no other variable's value was found in the run's files."
        } else {
            redaction +=
                "; the values of \(environment.redactedVariables.joined(separator: ", ")) were found in the run's "
                + "files and replaced by REDACTED_<NAME>."
        }
        if environment.literalsRedacted { redaction += " SQL string and number literals are replaced by '?'." }
        lines += wrap(redaction)
        return lines.joined(separator: "\n") + "\n"
    }

    static func outcomeSentence(_ manifest: RunManifest) -> String {
        let exit = manifest.outcome.exitCode.map { " (exit \($0))" } ?? ""
        var text: String
        switch manifest.outcome.status {
        case .completed:
            text = manifest.outcome.exitCode == 3 ? "It completed but failed its checks\(exit)" : "It completed\(exit)"
        case .stepFailed: text = "A step failed\(exit)"
        case .serverDied: text = "The server died\(exit)"
        case .startFailed: text = "The server could not be started\(exit)"
        case .interrupted: text = "It was interrupted\(exit)"
        case .running: text = "It never finished: snapctl was stopped before it could finalise the run"
        }
        if let step = manifest.outcome.step { text += " at step '\(step)'" }
        if let message = manifest.outcome.message { text += ": \(message)" }
        return text + "."
    }

    static func flavorName(_ flavor: String) -> String {
        switch flavor {
        case "mariadb": return "MariaDB"
        case "mysql": return "MySQL"
        default: return flavor
        }
    }

    /// Words wrapped at 100 columns.
    static func wrap(_ text: String, width: Int = 100) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
