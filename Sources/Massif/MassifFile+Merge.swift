extension MassifFile {
    /// Several files as one, snapshots in the order given and renumbered from 0, so that `ms_print` and
    /// massif-visualizer show them as one timeline.
    ///
    /// * The header (desc, cmd, time unit) is the first file's.
    /// * Every file must use the same time unit: times in instructions, milliseconds and bytes cannot share one
    ///   axis, so a mismatch throws (naming the file, from `names`, and both units).
    /// * Times are kept while they do not go back: snapshots of one run (what snapctl merges) are in time order.
    ///   When a file starts earlier than the previous one ended (another run), its times are shifted to start
    ///   where the previous file ended, because `ms_print.in` takes the last snapshot's time as the end of its
    ///   graph's axis and misdraws (with warnings) any snapshot beyond it.
    /// * At most one snapshot stays `peak` (`ms_print.in` remembers a single peak): the peak with the largest
    ///   total, the first one on ties; other peaks become `detailed`, keeping their trees.
    /// * No input throws: a massif file needs at least one snapshot.
    ///
    /// - Parameter names: file names for error messages, parallel to `files` (default `input 1`, `input 2`, ...).
    public static func merge(_ files: [MassifFile], names: [String] = []) throws(MassifError) -> MassifFile {
        func name(_ position: Int) -> String {
            position < names.count ? names[position] : "input \(position + 1)"
        }
        guard let first = files.first else {
            throw MassifError(fileName: "merge", line: nil, expected: "at least one massif file", found: "none")
        }
        var snapshots: [Snapshot] = []
        snapshots.reserveCapacity(files.reduce(0) { $0 + $1.snapshots.count })
        for (position, file) in files.enumerated() {
            guard file.header.timeUnit == first.header.timeUnit else {
                throw MassifError(
                    fileName: name(position),
                    line: nil,
                    expected: "time_unit \(first.header.timeUnit.raw) like \(name(0))",
                    found: "time_unit \(file.header.timeUnit.raw)"
                )
            }
            let previousEnd = snapshots.last?.time ?? 0
            let (gap, gapOverflow) = previousEnd.subtractingReportingOverflow(
                file.snapshots.first?.time ?? previousEnd
            )
            let shift = gapOverflow ? Int.max : max(0, gap)
            for var snapshot in file.snapshots {
                snapshot.index = snapshots.count
                let (time, overflow) = snapshot.time.addingReportingOverflow(shift)
                guard !overflow else {
                    throw MassifError(
                        fileName: name(position),
                        line: nil,
                        expected: "snapshot times that fit in 64 bits once shifted after \(name(max(0, position - 1)))",
                        found: "time \(snapshot.time) + \(shift) past \(Int.max)"
                    )
                }
                snapshot.time = time
                snapshots.append(snapshot)
            }
        }
        guard !snapshots.isEmpty else {
            throw MassifError(fileName: name(0), line: nil, expected: "at least one snapshot", found: "none")
        }
        var peak: Int?
        for position in snapshots.indices where snapshots[position].kind == .peak {
            if let current = peak, snapshots[current].totalBytes >= snapshots[position].totalBytes {
                snapshots[position].kind = .detailed
            } else {
                if let current = peak { snapshots[current].kind = .detailed }
                peak = position
            }
        }
        return MassifFile(header: first.header, snapshots: snapshots)
    }
}
