/// What an xtree memory dump counts (`--xtree-memory=full`, `m_xtmemory.c`): one tree per event.
///
/// `--xtree-memory=allocs` dumps only the first two.
public enum XTreeEvent: String, Sendable, Hashable, Codable, CaseIterable {
    /// Bytes in use (allocated and not freed), by allocation stack.
    case currentBytes = "curB"
    /// Blocks in use, by allocation stack.
    case currentBlocks = "curBk"
    /// Bytes allocated since the start, by allocation stack: the difference between two dumps is what was
    /// allocated between them.
    case totalBytes = "totB"
    /// Allocation calls since the start, by allocation stack.
    case totalBlocks = "totBk"
    /// Bytes freed since the start, by the stack that freed them.
    case freedBytes = "totFdB"
    /// Blocks freed since the start, by the stack that freed them.
    case freedBlocks = "totFdBk"

    /// The short name Valgrind uses (`curB`, `totFdBk`, ...).
    public var name: String { rawValue }

    /// The event's description as Valgrind writes it after the name (`currently allocated Bytes`).
    public var meaning: String {
        let text = TopDescription(self).rawValue
        return String(text.dropFirst(rawValue.count + 3))
    }

    /// True for the byte counts, false for the block counts.
    public var countsBytes: Bool { !rawValue.hasSuffix("k") }
}

/// One xtree memory dump (`xtmemory FILE` monitor command, or the dump at exit) as typed trees: for every event
/// the dump has, a tree per call path like a detailed Massif snapshot (root = the allocation functions, children
/// = their callers, outwards to `main`).
///
/// Valgrind writes it in two formats (`m_xtmemory.c:produce_report`): Massif's when the file name contains `.ms`
/// (one detailed snapshot per event, read by `MassifParser`), otherwise callgrind's (read by
/// `XTreeCallgrindParser`). The callgrind format has no code addresses and no inlined frames, and names a frame
/// by function, file and line; its frames are written `0x0: function (file:line)`.
public struct XTreeDump: Sendable, Hashable {
    /// The file format the dump came in.
    public enum Format: String, Sendable, Hashable, Codable {
        case massif
        case callgrind
    }

    public var format: Format
    /// The client command line (`cmd:`).
    public var command: String
    /// The events, in the file's order.
    public var events: [XTreeEvent]
    /// The tree of each event in `events`.
    public var trees: [XTreeEvent: HeapTree]
    /// The process id (callgrind format only).
    public var pid: Int?
    /// Milliseconds since the start when the dump was taken (Massif format only).
    public var milliseconds: Int?

    public init(
        format: Format,
        command: String,
        events: [XTreeEvent],
        trees: [XTreeEvent: HeapTree],
        pid: Int? = nil,
        milliseconds: Int? = nil
    ) {
        self.format = format
        self.command = command
        self.events = events
        self.trees = trees
        self.pid = pid
        self.milliseconds = milliseconds
    }

    /// The dump in a Massif-format file, or nil when the file is not one (a tree whose root is not an xtree event,
    /// a light snapshot, an event twice).
    public init?(massif file: MassifFile) {
        var events: [XTreeEvent] = []
        var trees: [XTreeEvent: HeapTree] = [:]
        for snapshot in file.snapshots {
            guard let tree = snapshot.tree, let event = tree.top.xtreeEvent, trees[event] == nil else { return nil }
            events.append(event)
            trees[event] = tree
        }
        guard !events.isEmpty else { return nil }
        self.init(
            format: .massif,
            command: file.header.cmd,
            events: events,
            trees: trees,
            milliseconds: file.snapshots.first?.time
        )
    }

    /// The tree of one event.
    public func tree(_ event: XTreeEvent) -> HeapTree? { trees[event] }

    /// The dump as a Massif file, one detailed snapshot per event numbered in file order, as Valgrind writes
    /// `.ms` dumps: what `snapctl massif print`, `summary` and `diff` read.
    public func massifFile() -> MassifFile {
        let snapshots = events.enumerated().compactMap { (position, event) -> Snapshot? in
            guard let tree = trees[event] else { return nil }
            return Snapshot(
                index: position,
                time: milliseconds ?? 0,
                heapBytes: tree.bytes,
                extraBytes: 0,
                stacksBytes: 0,
                kind: .detailed,
                tree: tree
            )
        }
        return MassifFile(
            header: MassifHeader(desc: "xtree.produce_report", cmd: command, timeUnit: .milliseconds),
            snapshots: snapshots
        )
    }

    /// True when a massif file holds an xtree dump (every snapshot's root is an xtree event).
    public static func isXTree(_ file: MassifFile) -> Bool {
        !file.snapshots.isEmpty && file.snapshots.allSatisfy { $0.tree?.top.xtreeEvent != nil }
    }
}
