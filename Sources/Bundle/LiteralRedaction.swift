import Foundation
import Plan
import Report
import RunRecord

/// `--redact-literals`: every SQL string and number literal of the run replaced by `?`, in plan.yaml,
/// the manifest's statements and commands, the logs, and the reports (rendered again from the redacted
/// manifest).
///
/// In SQL the literals are found by ``SQLLiteralRedactor``. Logs and error messages are not SQL, so
/// there the values found in the SQL are replaced where they appear: strings of 3 characters or more
/// anywhere, numbers of 3 digits or more where they stand alone. Shorter values are left in logs (they
/// cannot be told from the numbers and words every log is made of). Pure.
public enum LiteralRedaction {
    /// Values shorter than this are replaced only inside SQL.
    public static let minimumLogValueLength = 3

    /// The run's files with their literals replaced; the manifest is returned as a value and not
    /// re-encoded, since packing adds to it.
    public static func apply(
        files: [String: [UInt8]],
        manifest: RunManifest,
        file: String
    ) throws(BundleError) -> (files: [String: [UInt8]], manifest: RunManifest, report: RunReport) {
        var files = files
        var manifest = manifest
        var literals: [String] = []

        func redactSQL(_ sql: String) -> String {
            let (text, found) = SQLLiteralRedactor.scan(sql)
            literals += found
            return text
        }

        if let planBytes = files[RunLayout.planFile] {
            let plan = try BundlePlan.load(
                yaml: String(decoding: planBytes, as: UTF8.self),
                manifest: manifest,
                file: file
            )
            var redacted = plan.inliningSQLFiles()
            if case .server(var server) = redacted.target {
                server.initSQL = server.initSQL.map(redactSQL)
                redacted.target = .server(server)
            }
            for index in redacted.steps.indices {
                switch redacted.steps[index].kind {
                case .sql(let statements):
                    redacted.steps[index].kind = .sql(statements: statements.map(redactSQL))
                case .parallel(var parallel):
                    parallel.statements = parallel.statements.map(redactSQL)
                    redacted.steps[index].kind = .parallel(parallel)
                case .shell(let command):
                    redacted.steps[index].kind = .shell(command: redactSQL(command))
                case .sqlFile, .snap, .sleep:
                    break
                }
            }
            do {
                files[RunLayout.planFile] = Array(
                    ("# SQL literals replaced by ? (snapctl bundle pack --redact-literals)\n"
                        + (try redacted.yaml())).utf8
                )
            } catch {
                throw .planUnreadable(file: file, messages: ["it cannot be written back: \(error)"])
            }
        }

        for index in manifest.steps.indices {
            manifest.steps[index].sql = manifest.steps[index].sql?.map(redactSQL)
            manifest.steps[index].command = manifest.steps[index].command.map(redactSQL)
            if let statement = manifest.steps[index].error?.statement {
                manifest.steps[index].error?.statement = redactSQL(statement)
            }
        }

        let values = valueRedactor(literals)
        for index in manifest.steps.indices {
            if let message = manifest.steps[index].error?.message {
                manifest.steps[index].error?.message = values.apply(message)
            }
        }
        manifest.outcome.message = manifest.outcome.message.map(values.apply)
        manifest.warnings = manifest.warnings.map(values.apply)
        for path in files.keys where path.hasPrefix(RunLayout.logsDirectory + "/") {
            files[path] = files[path].map(values.apply)
        }

        // The reports quote error messages and statements: render them again from the redacted record.
        let run = LoadedRun.assemble(manifest: manifest) { files[$0] }
        let report = run.report()
        files[RunLayout.reportText] = Array(report.text().utf8)
        files[RunLayout.reportJSON] = [UInt8](report.jsonData())
        if files[RunLayout.reportHTML] != nil {
            files[RunLayout.reportHTML] = Array(run.html(report).utf8)
        }
        return (files, manifest, report)
    }

    /// Finds the literal values in text that is not SQL.
    static func valueRedactor(_ literals: [String]) -> Redactor {
        var rules: [Redactor.Rule] = []
        var seen: Set<String> = []
        for value in literals where value.count >= minimumLogValueLength && seen.insert(value).inserted {
            let isNumber = SQLLiteralRedactor.isNumber(value)
            rules.append(
                Redactor.Rule(
                    value: value,
                    placeholder: "?",
                    wordBounded: isNumber,
                    caseInsensitive: false,
                    source: "literal"
                )
            )
        }
        return Redactor(rules: rules)
    }
}
