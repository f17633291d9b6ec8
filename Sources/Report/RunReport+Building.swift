import Massif
import RunRecord

extension RunReport {
    /// Builds the report of a run.
    ///
    /// - Parameters:
    ///   - manifest: the run's manifest.
    ///   - snapshots: the parsed snapshot of each snapshot file, by snapshot id; a missing id (a file that
    ///     could not be read) leaves that step with totals from the manifest and no sites.
    ///   - folding: the allocator wrappers folded away, so that the first real caller is named.
    public static func make(
        manifest: RunManifest,
        snapshots: [Int: Snapshot],
        xtrees: [String: XTreeDump] = [:],
        folding: AllocatorFolding = .mariadbDefault,
        variables: ServerVariableMap = .mariadbDefault,
        siteLimit: Int = RunReport.defaultSiteLimit
    ) -> RunReport {
        var steps: [StepReport] = []
        var budgets: [BudgetVerdict] = []
        var leaks: [LeakVerdict] = []
        // Each step's report (its diff above all) depends only on the run: built on every core.
        let built = ParallelMap.map(manifest.steps) { step -> StepReport in
            let records = manifest.snapshots(ofStep: step.label)
            var report = StepReport(index: step.index, label: step.label, kind: step.kind, outcome: step.outcome)
            report.duration = step.duration
            report.rounds = step.rounds
            report.on = step.on
            report.replica = step.replica
            report.error = step.error.map { error in
                var text = error.message
                if let code = error.code {
                    text = "error \(code)" + (error.sqlState.map { " (\($0))" } ?? "") + ": " + text
                }
                return text
            }
            var first = records.first { $0.phase == .before || $0.phase == .snap }
            let last = records.last { $0.phase == .after || $0.phase == .snap }
            if step.kind == .snap, let own = first {
                // A snap step is a point: its change is measured from the snapshot taken before it.
                first = previousPoint(before: own, in: manifest)
                report.since = first?.label
            }
            report.before = first?.totalBytes
            report.after = last?.totalBytes
            report.duringPeak = records.filter { $0.phase == .during }.map(\.totalBytes).max()
            report.memoryUsedBefore = first?.counters?.memoryUsed
            report.memoryUsedAfter = last?.counters?.memoryUsed
            report.processlistBefore = first?.counters?.processlistTotal
            report.processlistAfter = last?.counters?.processlistTotal
            if let first, let last, let before = snapshots[first.id], let after = snapshots[last.id] {
                let diff = SnapshotDiff(before: before, after: after, folding: folding)
                report.sites = sites(diff, growing: true, limit: siteLimit)
                report.shrunk = sites(diff, growing: false, limit: siteLimit)
                if manifest.primary != nil { report.replicationGrowth = ReplicationGrowth.measure(diff) }
            }
            if let lenses = step.lenses {
                addLenses(
                    lenses,
                    to: &report,
                    before: first.flatMap { snapshots[$0.id] },
                    beforeTotal: first?.totalBytes,
                    during: records.filter { $0.phase == .during },
                    snapshots: snapshots,
                    xtrees: xtrees,
                    folding: folding,
                    variables: variables,
                    siteLimit: siteLimit
                )
            }
            return report
        }
        for (step, report) in zip(manifest.steps, built) {
            let records = manifest.snapshots(ofStep: step.label)
            steps.append(report)
            budgets += lensBudgets(of: report, manifest: manifest)

            if let limit = manifest.budgets.maxGrowth[step.label] {
                let measured = report.delta
                budgets.append(
                    BudgetVerdict(
                        budget: "max_growth",
                        step: step.label,
                        limit: limit,
                        measured: measured,
                        passed: measured.map { Int64($0) <= limit } ?? true,
                        note: measured == nil ? "not measured: the step has no before and after snapshots" : nil
                    )
                )
            }
            if step.repeat > 1 {
                let rounds = records.filter { $0.phase == .after && $0.round != nil }
                if let leak = leakVerdict(
                    step: step.label,
                    rounds: rounds,
                    manifest: manifest,
                    snapshots: snapshots,
                    folding: folding,
                    siteLimit: siteLimit
                ) {
                    leaks.append(leak)
                }
            }
        }

        var peak: Int?
        var peakSource: String?
        for record in manifest.snapshots where record.totalBytes > (peak ?? -1) {
            peak = record.totalBytes
            peakSource = "snapshot \(record.id) (\(record.label))"
        }
        if let final = manifest.massifFinal?.peakTotal, final > (peak ?? -1) {
            peak = final
            peakSource = manifest.massifFinal?.file
        }
        if let limit = manifest.budgets.maxHeap {
            budgets.append(
                BudgetVerdict(
                    budget: "max_heap",
                    step: nil,
                    limit: limit,
                    measured: peak,
                    passed: peak.map { Int64($0) <= limit } ?? true,
                    note: peak == nil ? "not measured: no snapshot was taken" : nil
                )
            )
        }

        var report = RunReport(
            schema: currentSchema,
            plan: manifest.plan.name,
            status: manifest.outcome.status,
            exitCode: manifest.outcome.exitCode,
            message: manifest.outcome.message,
            server: manifest.server.map { "\($0.flavor) \($0.version) (pid \($0.pid))" },
            steps: steps,
            measuredPeak: peak,
            measuredPeakSource: peakSource,
            envelope: manifest.server?.envelope,
            budgets: budgets,
            leaks: leaks
        )
        report.primary = manifest.primary.map { primary in
            [primary.flavor, primary.version].compactMap { $0 }.joined(separator: " ")
                + " at \(primary.address) (\(primary.mode == "managed" ? "started by snapctl, not profiled" : "attached"))"
        }
        if manifest.server?.pagesAsHeap == true,
            let last = manifest.snapshots.filter({ snapshots[$0.id]?.tree != nil }).max(by: { $0.id < $1.id }),
            let tree = snapshots[last.id]?.tree
        {
            report.globalBuffers = GlobalBuffers.measure(tree, variables: manifest.server?.memoryVariables ?? [:])
            report.globalBuffersSnapshot = last.id
        }
        return report
    }

    /// The lenses of one step as they stand right after it ran (the session's step line, the REPL's `peak`):
    /// a ``StepReport`` with only its lens fields and totals set.
    ///
    /// - Parameters:
    ///   - record: the step's record, with its ``StepLenses``.
    ///   - taken: the step's snapshot records (before, during, after).
    ///   - snapshots: parsed snapshots by id (at least the before one and the detailed `during` ones).
    ///   - xtrees: the step's xtree dumps by path.
    public static func stepLenses(
        _ record: StepRecord,
        taken: [SnapshotRecord],
        snapshots: [Int: Snapshot],
        xtrees: [String: XTreeDump],
        folding: AllocatorFolding = .mariadbDefault,
        variables: ServerVariableMap = .mariadbDefault
    ) -> StepReport {
        var report = StepReport(index: record.index, label: record.label, kind: record.kind, outcome: record.outcome)
        let first = taken.first { $0.phase == .before }
        report.before = first?.totalBytes
        report.after = taken.last { $0.phase == .after }?.totalBytes
        if let lenses = record.lenses {
            addLenses(
                lenses,
                to: &report,
                before: first.flatMap { snapshots[$0.id] },
                beforeTotal: first?.totalBytes,
                during: taken.filter { $0.phase == .during },
                snapshots: snapshots,
                xtrees: xtrees,
                folding: folding,
                variables: variables,
                siteLimit: defaultSiteLimit
            )
        }
        return report
    }

    /// Adds the transient-memory lenses of a step: allocated and churn from the xtree dumps, peak from the
    /// tallest detailed `during` sample, and the server variables that size what they found.
    static func addLenses(
        _ lenses: StepLenses,
        to report: inout StepReport,
        before: Snapshot?,
        beforeTotal: Int?,
        during: [SnapshotRecord],
        snapshots: [Int: Snapshot],
        xtrees: [String: XTreeDump],
        folding: AllocatorFolding,
        variables: ServerVariableMap,
        siteLimit: Int
    ) {
        var problems = lenses.problems ?? []
        var findings: [SizingFinding] = []
        var allocations: TransientLenses.Allocations?
        if let file = lenses.allocations {
            if let dump = xtrees[file] {
                allocations = TransientLenses.allocations(
                    during: dump,
                    folding: folding,
                    variables: variables,
                    limit: siteLimit
                )
                if allocations == nil { problems.append("\(file) has no totB tree") }
            } else {
                problems.append("the allocated lens is missing: \(file) could not be read")
            }
        }
        if let allocations {
            report.allocatedBytes = allocations.bytes
            report.allocationCalls = allocations.calls
            report.allocated = allocations.allocated
            report.churn = allocations.churn
        }
        if let interval = lenses.peakIntervalMilliseconds {
            report.peakInterval = interval
            let samples = during.filter { $0.kind == .detailed && snapshots[$0.id]?.tree != nil }
            if let tallest = samples.max(by: { $0.totalBytes < $1.totalBytes }), let before, before.tree != nil,
                let peak = snapshots[tallest.id]
            {
                let lens = TransientLenses.peak(
                    before: before,
                    peak: peak,
                    folding: folding,
                    variables: variables,
                    limit: siteLimit
                )
                report.peak = lens.sites
                report.peakSnapshot = tallest.id
                report.peakGrowth = beforeTotal.map { tallest.totalBytes - $0 }
                findings += TransientLenses.findings(lens: "peak", sizing: lens.sizing, values: lenses.variables)
            } else if before?.tree == nil {
                report.peakNote = "no peak lens: the step's before snapshot is not detailed"
            } else {
                let fallback =
                    allocations == nil
                    ? "; turn on allocations: true to see what it allocated"
                    : "; what it allocated is shown instead (allocated lens)"
                report.peakNote =
                    "no sample was taken while the step ran: it finished within the sampling interval (\(interval) ms)"
                    + fallback
                if let allocations { report.peak = allocations.allocated }
            }
        }
        if let allocations {
            findings += TransientLenses.findings(
                lens: "allocated",
                sizing: allocations.sizing,
                values: lenses.variables
            )
        }
        report.sizing = findings.isEmpty ? nil : findings
        report.lensProblems = problems.isEmpty ? nil : problems
    }

    /// The verdicts of a step's lens budgets (`max_peak`, `max_allocated`, `max_allocations`).
    static func lensBudgets(of report: StepReport, manifest: RunManifest) -> [BudgetVerdict] {
        let label = report.label
        let checks: [(String, Int64?, Int?, String)] = [
            (
                "max_peak", manifest.budgets.maxPeak?[label], report.peakGrowth,
                "no detailed sample was taken while the step ran"
            ),
            (
                "max_allocated", manifest.budgets.maxAllocated?[label], report.allocatedBytes,
                "the allocated lens is missing"
            ),
            (
                "max_allocations", manifest.budgets.maxAllocations?[label], report.allocationCalls,
                "the allocated lens is missing"
            ),
        ]
        return checks.compactMap { name, limit, measured, missing in
            guard let limit else { return nil }
            return BudgetVerdict(
                budget: name,
                step: label,
                limit: limit,
                measured: measured,
                passed: measured.map { Int64($0) <= limit } ?? true,
                note: measured == nil ? "not measured: \(missing)" : nil
            )
        }
    }

    /// The last snapshot taken before `record` that marks a point of the run (before, after, snap or
    /// final; not the light `during` samples), or nil when `record` is the first.
    static func previousPoint(before record: SnapshotRecord, in manifest: RunManifest) -> SnapshotRecord? {
        manifest.snapshots.filter { $0.id < record.id && $0.phase != .during }.max { $0.id < $1.id }
    }

    init(
        schema: String,
        plan: String,
        status: RunManifest.RunStatus,
        exitCode: Int32?,
        message: String?,
        server: String?,
        steps: [StepReport],
        measuredPeak: Int?,
        measuredPeakSource: String?,
        envelope: RunManifest.Envelope?,
        budgets: [BudgetVerdict],
        leaks: [LeakVerdict]
    ) {
        self.schema = schema
        self.plan = plan
        self.status = status
        self.exitCode = exitCode
        self.message = message
        self.server = server
        self.steps = steps
        self.measuredPeak = measuredPeak
        self.measuredPeakSource = measuredPeakSource
        self.envelope = envelope
        self.budgets = budgets
        self.leaks = leaks
    }

    /// The leak check of a repeated step (docs/plan.md, "leak"): growth from after the first round to
    /// after the last of at least `min_growth`, and growth round to round in at least
    /// `min_rounds_fraction` of the transitions. `nil` with fewer than two rounds snapshotted.
    static func leakVerdict(
        step: String,
        rounds: [SnapshotRecord],
        manifest: RunManifest,
        snapshots: [Int: Snapshot],
        folding: AllocatorFolding,
        siteLimit: Int
    ) -> LeakVerdict? {
        guard rounds.count >= 2, let first = rounds.first, let last = rounds.last else { return nil }
        var growing = 0
        for position in 1..<rounds.count where rounds[position].totalBytes > rounds[position - 1].totalBytes {
            growing += 1
        }
        let fraction = Double(growing) / Double(rounds.count - 1)
        let growth = last.totalBytes - first.totalBytes
        let flagged =
            Int64(growth) >= manifest.budgets.leakMinGrowth
            && fraction >= manifest.budgets.leakMinRoundsFraction
        var grown: [Site] = []
        if let before = snapshots[first.id], let after = snapshots[last.id] {
            grown = sites(SnapshotDiff(before: before, after: after, folding: folding), growing: true, limit: siteLimit)
        }
        return LeakVerdict(
            step: step,
            rounds: rounds.count,
            growingRounds: growing,
            growingFraction: fraction,
            growth: growth,
            flagged: flagged,
            sites: grown
        )
    }

    /// The paths of a diff that grew (or shrank) most, as display names.
    static func sites(_ diff: SnapshotDiff, growing: Bool, limit: Int) -> [Site] {
        let entries =
            growing
            ? diff.paths.filter { $0.change.delta > 0 }
            : diff.paths.filter { $0.change.delta < 0 }.sorted { $0.change.delta < $1.change.delta }
        return entries.prefix(limit).map { entry in
            let names = entry.path.map(displayName)
            // A stripped server names about half its frames; the first named one says more than `???`.
            let named = names.first { !$0.hasPrefix("???") } ?? names.first ?? "?"
            return Site(function: named, path: names, delta: entry.change.delta)
        }
    }

    /// A frame description as a short name: the function (and file when known), or `???` and its object.
    static func displayName(_ text: String) -> String {
        if text == HeapTree.belowThresholdKey { return text }
        guard let frame = CodeFrame(text: text) else { return text }
        return MassifRenderer.describe(.code(frame))
    }
}

extension RunReport {
    /// The call paths that grew most from `before` to `after`, allocator wrappers folded; empty when
    /// either is light.
    public static func growingSites(
        before: Snapshot,
        after: Snapshot,
        folding: AllocatorFolding = .mariadbDefault,
        limit: Int = RunReport.defaultSiteLimit
    ) -> [Site] {
        sites(SnapshotDiff(before: before, after: after, folding: folding), growing: true, limit: limit)
    }
}
