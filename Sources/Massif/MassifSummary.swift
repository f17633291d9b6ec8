/// The figures of every snapshot in a file and which one is the peak: what `snapctl massif summary --json`
/// prints. Keys are snake_case with Massif's `_B` suffix for bytes.
public struct MassifSummary: Sendable, Hashable, Codable {
    /// One snapshot's figures.
    public struct Entry: Sendable, Hashable, Codable {
        public var index: Int
        public var time: Int
        public var heapBytes: Int
        public var extraBytes: Int
        public var stacksBytes: Int
        public var totalBytes: Int
        public var kind: Snapshot.Kind

        enum CodingKeys: String, CodingKey {
            case index, time, kind
            case heapBytes = "heap_B"
            case extraBytes = "extra_B"
            case stacksBytes = "stacks_B"
            case totalBytes = "total_B"
        }
    }

    /// The peak: the snapshot Massif marked `heap_tree=peak` when there is one (`recorded` true), otherwise the
    /// snapshot with the largest total.
    public struct Peak: Sendable, Hashable, Codable {
        public var index: Int
        public var totalBytes: Int
        public var recorded: Bool

        enum CodingKeys: String, CodingKey {
            case index, recorded
            case totalBytes = "total_B"
        }
    }

    public var timeUnit: TimeUnit
    public var snapshots: [Entry]
    public var peak: Peak?

    enum CodingKeys: String, CodingKey {
        case snapshots, peak
        case timeUnit = "time_unit"
    }

    public init(_ file: MassifFile) {
        timeUnit = file.header.timeUnit
        snapshots = file.snapshots.map {
            Entry(
                index: $0.index,
                time: $0.time,
                heapBytes: $0.heapBytes,
                extraBytes: $0.extraBytes,
                stacksBytes: $0.stacksBytes,
                totalBytes: $0.totalBytes,
                kind: $0.kind
            )
        }
        if let position = file.peakPosition {
            peak = Peak(
                index: file.snapshots[position].index,
                totalBytes: file.snapshots[position].totalBytes,
                recorded: true
            )
        } else if let position = file.largestTotalPosition {
            peak = Peak(
                index: file.snapshots[position].index,
                totalBytes: file.snapshots[position].totalBytes,
                recorded: false
            )
        } else {
            peak = nil
        }
    }
}
