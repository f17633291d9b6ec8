import Massif
import Report
import RunRecord
import TextFormat

/// How far a replayed heap change may be from the recorded one and still count as reproduced: the
/// larger of a fraction of the recorded change and a number of bytes (small steps move by a few
/// kilobytes from run to run; large ones by a few percent).
public struct ReplayTolerance: Sendable, Hashable {
    public static let defaultFraction = 0.10
    public static let defaultBytes = 64 * 1024

    /// 0.10 for 10%.
    public var fraction: Double
    public var bytes: Int

    public init(fraction: Double = ReplayTolerance.defaultFraction, bytes: Int = ReplayTolerance.defaultBytes) {
        self.fraction = fraction
        self.bytes = bytes
    }

    /// The largest difference allowed for a recorded change.
    public func allowed(for recorded: Int) -> Int {
        max(Int((Double(recorded.magnitude) * fraction).rounded()), bytes)
    }
}

/// Per step, the recorded heap change beside the replayed one, and whether the headline, the step that
/// grew most in the recording, grew alike again. Pure.
public struct ReplayComparison: Sendable, Hashable {
    public enum Verdict: String, Sendable, Hashable {
        case reproduced
        case differs = "not reproduced"
        /// The step has no change on one side (no before and after snapshots, or it did not run).
        case notMeasured = "not measured"
    }

    public struct Row: Sendable, Hashable {
        public var index: Int
        public var label: String
        public var recorded: Int?
        public var replayed: Int?
        /// replayed minus recorded.
        public var difference: Int?
        public var allowed: Int
        public var verdict: Verdict
        /// The replay's outcome of the step (`ok`, `failed`, `not_run`...).
        public var outcome: StepOutcome?
    }

    public var rows: [Row]
    public var tolerance: ReplayTolerance
    /// The label of the step with the largest recorded growth.
    public var headline: String?

    /// Whether the headline step's change was reproduced.
    public var reproduced: Bool {
        rows.first { $0.label == headline }?.verdict == .reproduced
    }

    /// The headline row.
    public var headlineRow: Row? { rows.first { $0.label == headline } }

    /// Compares two runs of the same plan, step by step (matched by label).
    ///
    /// - Throws: nothing; a recording with no step to compare has `headline` `nil`.
    public static func compare(
        recorded: RunManifest,
        replayed: RunManifest,
        tolerance: ReplayTolerance = ReplayTolerance()
    ) -> ReplayComparison {
        let before = RunReport.make(manifest: recorded, snapshots: [:]).steps
        let after = RunReport.make(manifest: replayed, snapshots: [:]).steps
        var rows: [Row] = []
        for step in before {
            let again = after.first { $0.label == step.label }
            let recordedDelta = step.delta
            let replayedDelta = again?.delta
            let allowed = tolerance.allowed(for: recordedDelta ?? 0)
            var row = Row(
                index: step.index,
                label: step.label,
                recorded: recordedDelta,
                replayed: replayedDelta,
                difference: nil,
                allowed: allowed,
                verdict: .notMeasured,
                outcome: again?.outcome
            )
            if let recordedDelta, let replayedDelta {
                let difference = replayedDelta - recordedDelta
                row.difference = difference
                row.verdict = difference.magnitude <= allowed ? .reproduced : .differs
            }
            rows.append(row)
        }
        let measured = rows.filter { $0.recorded != nil }
        let headline = measured.max { ($0.recorded ?? 0) < ($1.recorded ?? 0) }?.label
        return ReplayComparison(rows: rows, tolerance: tolerance, headline: headline)
    }

    /// The table: step, recorded change, replayed change, difference, verdict; the headline marked `*`.
    public func table() -> String {
        var lines: [[String]] = [["", "#", "step", "recorded", "replayed", "difference", "verdict"]]
        for row in rows {
            var verdict = row.verdict.rawValue
            if row.verdict == .differs { verdict += " (allowed +/-\(Format.bytes(row.allowed)))" }
            if let outcome = row.outcome, !outcome.isSuccess { verdict += " [\(outcome.rawValue)]" }
            lines.append([
                row.label == headline ? "*" : "",
                String(row.index),
                row.label,
                row.recorded.map(Format.signedBytes) ?? "-",
                row.replayed.map(Format.signedBytes) ?? "-",
                row.difference.map(Format.signedBytes) ?? "-",
                verdict,
            ])
        }
        var widths = [Int](repeating: 0, count: 7)
        for line in lines {
            for (column, cell) in line.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        let rightAligned: Set<Int> = [1, 3, 4, 5]
        return lines.map { line in
            line.enumerated().map { column, cell in
                rightAligned.contains(column) ? Format.leftPad(cell, widths[column]) : Format.pad(cell, widths[column])
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }

    /// The verdict in one sentence.
    public func summary() -> String {
        guard let row = headlineRow else { return "no step of the recording has a heap change to compare" }
        let tolerance =
            "within max(\(Int((self.tolerance.fraction * 100).rounded()))%, "
            + "\(Format.bytes(self.tolerance.bytes)))"
        switch row.verdict {
        case .reproduced:
            return
                "reproduced: step '\(row.label)' grew \(row.replayed.map(Format.signedBytes) ?? "-") against \(row.recorded.map(Format.signedBytes) ?? "-") recorded (\(tolerance))"
        case .differs:
            return
                "not reproduced: step '\(row.label)' grew \(row.replayed.map(Format.signedBytes) ?? "-") against \(row.recorded.map(Format.signedBytes) ?? "-") recorded, a difference of \(row.difference.map(Format.signedBytes) ?? "-") (allowed \(Format.bytes(row.allowed)))"
        case .notMeasured:
            let why = row.outcome.map { "its outcome was \($0.rawValue)" } ?? "it is not in the replayed run"
            return
                "not reproduced: step '\(row.label)' (recorded \(row.recorded.map(Format.signedBytes) ?? "-")) has no heap change in the replay; \(why)"
        }
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
