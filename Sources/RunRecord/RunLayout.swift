/// Names of the files in a run directory (docs/architecture.md, "The run directory"), relative to it.
///
/// Writers and readers take every name from here so that the layout is defined once.
public enum RunLayout {
    public static let manifest = "manifest.json"
    public static let planFile = "plan.yaml"
    public static let snapshotsDirectory = "snapshots"
    public static let timeline = "timeline.massif"
    public static let massifFinal = "massif.final.out"
    public static let reportText = "report.txt"
    public static let reportJSON = "report.json"
    public static let reportHTML = "report.html"
    public static let logsDirectory = "logs"
    public static let snapctlLog = "logs/snapctl.log"
    public static let checksums = "SHA256SUMS"
    /// The managed server's private directory (datadir, socket, FIFOs); not part of the record, so
    /// left out of SHA256SUMS and removed once the server has stopped.
    public static let serverDirectory = "server"
    /// A profiled replica's primary's private directory (datadir, binary logs, socket): like `server/`.
    public static let primaryDirectory = "primary"

    /// `snapshots/0007-before-sort.massif`: the id in four digits, the phase, the file-safe label and,
    /// for rounds of a repeated step, `-r03`.
    ///
    /// - Parameter fileSafeLabel: the step label already made file-safe (`SnapshotLabel.fileSafe`).
    public static func snapshotFile(
        id: Int,
        phase: SnapshotPhase,
        fileSafeLabel: String,
        round: Int? = nil
    )
        -> String
    {
        var name = String(id)
        while name.count < 4 { name = "0" + name }
        name += "-" + phase.rawValue + "-" + fileSafeLabel
        if let round {
            var text = String(round)
            while text.count < 2 { text = "0" + text }
            name += "-r" + text
        }
        return snapshotsDirectory + "/" + name + ".massif"
    }

    /// `snapshots/xtree-0003-before-sort.ms`: an xtree memory dump around step 3's work (allocated lens), read
    /// and removed once the step's allocations are written. The `.ms` makes valgrind write Massif's format,
    /// which keeps every call site of a stripped binary apart.
    public static func xtreeFile(stepIndex: Int, phase: SnapshotPhase, fileSafeLabel: String) -> String {
        snapshotsDirectory + "/xtree-" + fourDigits(stepIndex) + "-" + phase.rawValue + "-" + fileSafeLabel + ".ms"
    }

    /// `snapshots/allocated-0003-sort.ms`: what step 3 allocated, per call path, as an xtree file in Massif's
    /// format with two trees, `totB` (bytes) and `totBk` (calls): the after dump minus the before dump.
    public static func allocationsFile(stepIndex: Int, fileSafeLabel: String) -> String {
        snapshotsDirectory + "/allocated-" + fourDigits(stepIndex) + "-" + fileSafeLabel + ".ms"
    }

    static func fourDigits(_ value: Int) -> String {
        var number = String(value)
        while number.count < 4 { number = "0" + number }
        return number
    }

    /// `logs/step-0003-flush.log`: the output of a shell step.
    public static func stepLog(index: Int, fileSafeLabel: String) -> String {
        var number = String(index)
        while number.count < 4 { number = "0" + number }
        return logsDirectory + "/step-" + number + "-" + fileSafeLabel + ".log"
    }

    /// `runs/<name>-<yyyymmddThhmmss>`: the default run directory.
    public static func defaultRunDirectory(fileSafeName: String, utcStamp: String) -> String {
        "runs/" + fileSafeName + "-" + utcStamp
    }

    /// Whether a file belongs in SHA256SUMS: everything but the checksum file itself and the servers'
    /// private directories.
    public static func isChecksummed(_ relativePath: String) -> Bool {
        relativePath != checksums
            && ![serverDirectory, primaryDirectory].contains {
                relativePath == $0 || relativePath.hasPrefix($0 + "/")
            }
    }
}
