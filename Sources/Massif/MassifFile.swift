/// A whole massif file as data: the header and every snapshot, in file order.
///
/// Massif writes it at exit (`ms_main.c:write_snapshots_to_file`) and on the `snapshot`, `detailed_snapshot`
/// and `all_snapshots` monitor commands. `parse(_:fileName:)` reads it strictly and `serialized()` writes it
/// back byte for byte.
public struct MassifFile: Sendable, Hashable, Codable {
    public var header: MassifHeader
    public var snapshots: [Snapshot]

    public init(header: MassifHeader, snapshots: [Snapshot]) {
        self.header = header
        self.snapshots = snapshots
    }

    /// The index in `snapshots` of the peak snapshot (`heap_tree=peak`), if Massif recorded one.
    ///
    /// `ms_print.in` takes the last `peak` it sees; so do we.
    public var peakPosition: Int? {
        snapshots.lastIndex { $0.kind == .peak }
    }

    /// The index in `snapshots` of the snapshot with the largest total (heap + extra + stacks); the first one
    /// wins ties. Unlike `peakPosition` this exists for every non-empty file, light snapshots included.
    public var largestTotalPosition: Int? {
        var best: Int?
        for (position, snapshot) in snapshots.enumerated()
        where best.map({ snapshot.totalBytes > snapshots[$0].totalBytes }) ?? true {
            best = position
        }
        return best
    }
}

/// The three header lines of a massif file (`m_xtree.c:VG_(XT_massif_open)`).
public struct MassifHeader: Sendable, Hashable, Codable {
    /// The text after `desc:` on each `desc:` line, exactly as written (Valgrind writes one line starting with a
    /// space; `ms_print.in` accepts any number and concatenates them). Kept raw for the exact writer.
    public var descLines: [String]
    /// The text after `cmd:`, exactly as written (usually one leading space).
    public var cmdLine: String
    public var timeUnit: TimeUnit

    public init(descLines: [String], cmdLine: String, timeUnit: TimeUnit) {
        self.descLines = descLines
        self.cmdLine = cmdLine
        self.timeUnit = timeUnit
    }

    /// Builds a header the way Valgrind writes one: `desc: <options>` (or `(none)`) and `cmd: <command>`.
    public init(desc: String, cmd: String, timeUnit: TimeUnit) {
        self.init(descLines: [" " + (desc.isEmpty ? "(none)" : desc)], cmdLine: " " + cmd, timeUnit: timeUnit)
    }

    /// The massif options, without the single space Valgrind puts after `desc:`; lines joined with newlines.
    public var desc: String {
        descLines.map { $0.hasPrefix(" ") ? String($0.dropFirst()) : $0 }.joined(separator: "\n")
    }

    /// The client command line, without the single space Valgrind puts after `cmd:`.
    public var cmd: String {
        cmdLine.hasPrefix(" ") ? String(cmdLine.dropFirst()) : cmdLine
    }
}

/// The unit of `time=` (`--time-unit`; `ms_main.c:TimeUnit_to_string`).
public enum TimeUnit: String, Sendable, Hashable, Codable, CaseIterable {
    /// Instructions executed (`i`, the default).
    case instructions = "i"
    /// Wall-clock milliseconds since start-up (`ms`).
    case milliseconds = "ms"
    /// Bytes allocated and freed on the heap and stacks (`B`).
    case bytes = "B"

    /// The spelling in the file: `i`, `ms` or `B`.
    public var raw: String { rawValue }
}
