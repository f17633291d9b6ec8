/// One snapshot record of a massif file (`m_xtree.c:VG_(XT_massif_print)`).
public struct Snapshot: Sendable, Hashable, Codable {
    /// What kind of record this is: the `heap_tree=` line.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A light snapshot: totals only, no tree (`heap_tree=empty`).
        case empty
        /// A detailed snapshot with its allocation tree.
        case detailed
        /// The peak snapshot, also detailed (only in files written at exit, `ms_main.c:take_snapshot`).
        case peak
    }

    /// The `snapshot=` number: 0-based within the file that Massif wrote (`merge` renumbers).
    public var index: Int
    /// The `time=` value, in the file's `TimeUnit`.
    public var time: Int
    /// Useful heap bytes (`mem_heap_B`); in a detailed snapshot Massif writes the tree's total here.
    public var heapBytes: Int
    /// Allocator overhead bytes (`mem_heap_extra_B`: slop and `--heap-admin`).
    public var extraBytes: Int
    /// Stack bytes (`mem_stacks_B`; zero unless `--stacks=yes`).
    public var stacksBytes: Int
    public var kind: Kind
    /// The allocation tree; present exactly when `kind` is `.detailed` or `.peak`.
    public var tree: HeapTree?

    public init(
        index: Int,
        time: Int,
        heapBytes: Int,
        extraBytes: Int,
        stacksBytes: Int,
        kind: Kind,
        tree: HeapTree?
    ) {
        self.index = index
        self.time = time
        self.heapBytes = heapBytes
        self.extraBytes = extraBytes
        self.stacksBytes = stacksBytes
        self.kind = kind
        self.tree = tree
    }

    /// Heap plus extra plus stacks: the "total(B)" column of `ms_print` and the base of Massif's threshold
    /// (`ms_main.c`: `sig_sz = (heap + extra + stacks) * threshold / 100`). Saturates instead of trapping.
    public var totalBytes: Int {
        let (partial, overflow1) = heapBytes.addingReportingOverflow(extraBytes)
        let (total, overflow2) = partial.addingReportingOverflow(stacksBytes)
        return overflow1 || overflow2 ? Int.max : total
    }

    /// True for a light (empty-tree) snapshot.
    public var isLight: Bool { tree == nil }
}
