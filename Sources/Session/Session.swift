import Plan
import RunRecord

/// `snapctl session`: runs a plan against a server under Massif and writes the run directory.
public enum Session {
    /// Creates the run directory and proves it writable; call before anything else so that an
    /// unwritable place is refused before a server starts. ``run(_:)`` calls it too.
    public static func prepare(runDirectory: String) throws(SessionError) -> String {
        try RunDirectory.prepare(runDirectory).path
    }

    /// Runs the plan and finalises the run directory on every path: success, failure, server death and
    /// cancellation (Ctrl-C cancels the calling task; the result then says `interrupted`, exit 130).
    ///
    /// - Throws: ``SessionError`` only for a run directory that cannot be used; after that every failure
    ///   is in the result and the record.
    public static func run(_ options: SessionOptions) async throws(SessionError) -> SessionResult {
        let directory = try RunDirectory.prepare(options.runDirectory)
        let engine = SessionEngine(options: options, directory: directory, effects: options.effects)
        let ending = await engine.run()
        // Finalisation runs in a task of its own so that a cancelled caller still gets a complete record
        // and a stopped server.
        return await Task { await engine.finalise(ending) }.value
    }

    /// `runs/<name>-<UTC yyyymmddThhmmss>`: the default run directory of a plan, its name made file-safe
    /// the same way as labels.
    public static func defaultRunDirectory(planName: String) -> String {
        RunLayout.defaultRunDirectory(fileSafeName: SnapshotLabel.fileSafe(planName), utcStamp: RunDirectory.utcStamp())
    }
}
