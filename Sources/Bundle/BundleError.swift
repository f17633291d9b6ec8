import Plan
import RunRecord

/// Why a bundle could not be packed, read, verified or replayed, with what to do about it.
public enum BundleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The archive's bytes are wrong (truncated, corrupt, an unsafe entry).
    case archive(file: String, fault: ArchiveFault)
    /// A file or folder cannot be read.
    case unreadable(path: String, reason: String)
    /// A file or folder cannot be written.
    case unwritable(path: String, reason: String)
    /// The folder given to `pack` is not a run directory.
    case notARun(path: String, reason: String)
    /// The bundle failed verification.
    case verificationFailed(file: String, problems: [BundleProblem])
    /// The bundle was packed with `--redact-literals`.
    case notReplayable(file: String)
    /// The run attached to a server that was already running; there is nothing to start again.
    case attachedRun(file: String, pid: Int32)
    /// The bundle's plan.yaml does not load.
    case planUnreadable(file: String, messages: [String])
    /// plan.yaml names a `sql_file` whose statements the manifest does not hold.
    case sqlFileNotRecorded(path: String)
    /// plan.yaml names a `sql_file` outside the bundle (absolute, or with `..`).
    case sqlFileOutsideBundle(path: String, step: String)
    /// After redaction a secret was still found (a safety net; should never happen).
    case secretLeft(path: String, sources: [String])
    /// The recorded run has no step with both a before and an after snapshot.
    case nothingToCompare(file: String)
    /// The bundle's plan sets `server.env` (e.g. `LD_PRELOAD`), which would load code named by someone else
    /// into the server; replay refuses it unless the user accepts it with `--allow-env`.
    case serverEnvironment(file: String, names: [String])
    /// The replay's run directory cannot be used (the session's own message).
    case runDirectory(message: String)
    /// The bundle's plan asks for things the user has not allowed (shell steps, server options).
    case consentNeeded(file: String, refusals: [ReplayConsent.Refusal])
    /// The bundle file read differently the second time (while unpacking) than when it was verified.
    case changedWhileReading(file: String, path: String)

    public var description: String {
        switch self {
        case .archive(let file, let fault):
            return "\(file): \(fault)"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .unwritable(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .notARun(let path, let reason):
            return "\(path) is not a snapctl run directory: \(reason); give a directory written by snapctl session"
        case .verificationFailed(let file, let problems):
            let count = problems.count
            return "\(file): \(count) problem\(count == 1 ? "" : "s"): "
                + problems.map(\.description).joined(separator: "; ")
        case .notReplayable(let file):
            return
                "\(file) was packed with --redact-literals: its SQL literals are replaced by '?', so it cannot be replayed; ask for a bundle packed without --redact-literals"
        case .attachedRun(let file, let pid):
            return
                "\(file) records a run against a server that was already running (attached to pid \(pid)); replay starts servers itself, so give a bundle of a plan with server: (or neither server: nor attach:)"
        case .planUnreadable(let file, let messages):
            return "\(file): its plan.yaml does not load: " + messages.joined(separator: "; ")
        case .sqlFileNotRecorded(let path):
            return
                "plan.yaml names sql_file '\(path)' but the manifest holds no statements for it; the bundle is incomplete"
        case .sqlFileOutsideBundle(let path, let step):
            return
                "plan.yaml: step '\(step)' names sql_file '\(path)', outside the bundle; in replay a sql_file resolves only inside the bundle, so this bundle was edited or built by hand: do not replay it"
        case .secretLeft(let path, let sources):
            return
                "refusing to write the bundle: \(path) still holds the value of \(sources.joined(separator: ", ")) after redaction"
        case .runDirectory(let message):
            return message
        case .serverEnvironment(let file, let names):
            return
                "\(file): its plan sets server.env (\(names.joined(separator: ", "))), which changes what the server loads and runs (LD_PRELOAD loads a library into it); read plan.yaml in the bundle, then run snapctl replay --allow-env to accept it"
        case .consentNeeded(let file, let refusals):
            let count = refusals.count
            return
                "\(file): not replaying; no server was started. The bundle asks for \(count) thing\(count == 1 ? "" : "s") replay does not do unless you allow \(count == 1 ? "it" : "each") by a flag:\n"
                + refusals.map { "  " + $0.description }.joined(separator: "\n")
        case .changedWhileReading(let file, let path):
            return
                "\(file): '\(path)' differs from what was verified a moment before; the file changed while snapctl read it, copy it somewhere private and replay again"
        case .nothingToCompare(let file):
            return
                "\(file): no step of the recorded run has both a before and an after snapshot, so there is no heap change to reproduce"
        }
    }
}
