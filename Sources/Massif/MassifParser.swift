#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict, streaming reader of massif files.
///
/// Feed it bytes in chunks of any size and call `next()` until it returns nil ("need more input"); after
/// `endInput()`, nil means the file is complete. It accepts exactly what Valgrind writes
/// (`m_xtree.c:VG_(XT_massif_open)` and `VG_(XT_massif_print)`), which is stricter than `ms_print.in`: no blank
/// or comment lines, no spaces around numbers, no leading zeros, indentation equal to the depth, child counts
/// that match, a final newline. In exchange every file it accepts is written back byte for byte by
/// `MassifFile.serialized()`.
///
/// It reads bytes, never building a `String` per line: only each distinct frame description becomes a string, once,
/// and identical frames in later snapshots share it. Each tree is read into a flat `PackedTree` first;
/// `next()` turns it into a `HeapTree`, while `nextPacked()` hands it over as it is, with the frames it names
/// by number, for readers (`snapctl massif print`) that only walk it once.
public struct MassifParser: Sendable {
    /// What `next()` produces: the header once, then each snapshot when its last line has been read.
    public enum Event: Sendable, Hashable {
        case header(MassifHeader)
        case snapshot(Snapshot)
    }

    /// What `nextPacked()` produces: the same, with each tree packed (`PackedSnapshot`).
    public enum PackedEvent: Sendable, Hashable {
        case header(MassifHeader)
        case snapshot(PackedSnapshot)
    }

    /// Deeper trees are refused: Valgrind's `--depth` is at most 200 and inlined frames add a few levels, while a
    /// corrupt file must not make the (recursive) writer and comparisons run out of stack.
    public static let maximumDepth = 1000

    /// Longer lines are refused. Valgrind's longest lines are frame descriptions (a C++ signature with its
    /// templates and file name: a few KiB at most), while a hostile or corrupt file without newlines must not
    /// make the parser buffer it whole: this bounds the partial line kept between chunks.
    public static let maximumLineLength = 1 << 20

    public let fileName: String
    private var buffer: [UInt8] = []
    private var position = 0
    private var inputEnded = false
    private var lineNumber = 0
    private var state = State.desc
    private var descLines: [String] = []
    private var cmdLine = ""
    private var snapshotCount = 0
    private var pending = PendingSnapshot()
    /// The lines of the tree being read, and the nodes among them whose children are still being read.
    private var nodes: [PackedTree.Node] = []
    private var stack: [OpenNode] = []
    /// The nodes of the last tree read, whose frames predict those of the next one.
    private var previousTree: [PackedTree.Node] = []
    private var frames = FrameInterner()
    /// How many frames of `frames` earlier snapshots carried (`PackedSnapshot.newFrames`).
    private var framesHandedOut = 0

    private enum State {
        case desc
        case timeUnit
        case firstSeparator
        case snapshotNumber
        case secondSeparator
        case time
        case heap
        case extra
        case stacks
        case heapTree
        case tree
    }

    private struct PendingSnapshot {
        var index = 0
        var time = 0
        var heap = 0
        var extra = 0
        var stacks = 0
        var kind = Snapshot.Kind.empty
        var top = TopDescription.heapAllocationFunctions
        var rootLine = 0
        /// heap + extra + stacks, checked when the `heap_tree=` line is read.
        var total = 0
    }

    private struct OpenNode {
        /// Its index in `nodes`.
        var position: Int
        var expected: Int
        /// Children started so far; all of them have been read, since the deepest open node is the last.
        var seen = 0
        var line: Int
    }

    public init(fileName: String) {
        self.fileName = fileName
    }

    /// A parser for the rest of a file from the start of a snapshot (its first `#-----------` line), after a
    /// header and at least one snapshot that another parser reads (`snapctl massif print` reads the parts of a
    /// large file on threads of their own). It accepts and refuses what the parser of the whole file would from
    /// there, but numbers lines from the first one it is given and frames on its own: its errors name lines of
    /// the part, so a caller that needs the line in the file reads the part again with the parser of the part
    /// before. Whether that parser really ended between snapshots, where this one begins, is the caller's to
    /// check (`isBetweenSnapshots`).
    public static func continuation(fileName: String) -> MassifParser {
        var parser = MassifParser(fileName: fileName)
        parser.state = .firstSeparator
        parser.snapshotCount = 1
        return parser
    }

    /// True when the input so far ends with a complete snapshot (and the header): the next line must start a
    /// snapshot, or the file may end.
    public var isBetweenSnapshots: Bool {
        state == .firstSeparator && snapshotCount > 0 && position == buffer.count
    }

    /// Appends input. Bytes already consumed are dropped lazily, so feeding a whole file in one call copies nothing.
    public mutating func feed(_ bytes: [UInt8]) {
        if position == buffer.count {
            buffer = bytes
            position = 0
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Appends input from any byte sequence.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        feed(Array(bytes))
    }

    /// Reads the lines of `bytes` in place, passing each event to `handle` as soon as it is complete; only a
    /// trailing partial line is copied, to be finished by the next call. The same as `feed` then `next()` until
    /// nil, without copying the input: a reader with a reused buffer (`snapctl massif`) parses straight from it.
    public mutating func consume(
        _ bytes: UnsafeRawBufferPointer,
        _ handle: (Event) throws(MassifError) -> Void
    ) throws(MassifError) {
        try consumeLines(bytes) { (parser, packed) throws(MassifError) in try handle(parser.event(packed)) }
    }

    /// `consume(_:_:)` with packed trees: what `snapctl massif print` renders from.
    public mutating func consumePacked(
        _ bytes: UnsafeRawBufferPointer,
        _ handle: (PackedEvent) throws(MassifError) -> Void
    ) throws(MassifError) {
        try consumeLines(bytes) { (_, packed) throws(MassifError) in try handle(packed) }
    }

    /// The loop of both `consume` forms; `emit` gets the parser back to look frames up in.
    private mutating func consumeLines(
        _ bytes: UnsafeRawBufferPointer,
        _ emit: (inout MassifParser, PackedEvent) throws(MassifError) -> Void
    ) throws(MassifError) {
        let input = bytes.assumingMemoryBound(to: UInt8.self)
        guard let base = input.baseAddress, !input.isEmpty else { return }
        var start = 0
        if position < buffer.count {
            // Finish the partial line left by the previous chunk in the parser's own buffer.
            guard let found = memchr(base, 0x0A, input.count) else {
                try checkPartialLine(length: buffer.count - position + input.count)
                buffer.append(contentsOf: input)
                return
            }
            start = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found)) + 1
            try checkPartialLine(length: buffer.count - position + start - 1)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: input[0..<start]))
            while let event = try nextPacked() { try emit(&self, event) }
        }
        buffer.removeAll(keepingCapacity: true)
        position = 0
        while start < input.count {
            guard let found = memchr(base + start, 0x0A, input.count - start) else { break }
            let end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
            try checkPartialLine(length: end - start)
            lineNumber += 1
            let event = try dispatch(UnsafeBufferPointer(rebasing: input[start..<end]))
            start = end + 1
            if let event { try emit(&self, event) }
        }
        try checkPartialLine(length: input.count - start)
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: input[start...]))
    }

    /// The nested form of a packed event, frames looked up in this parser's table.
    private func event(_ packed: PackedEvent) -> Event {
        switch packed {
        case .header(let header): return .header(header)
        case .snapshot(let snapshot): return .snapshot(snapshot.snapshot(frames: frames.frames))
        }
    }

    /// Says that no more input will come: from now on `next()` returning nil means the file was complete.
    public mutating func endInput() {
        inputEnded = true
    }

    /// The next header or snapshot, or nil when more input is needed (or, after `endInput()`, when the file is
    /// complete). Throws on the first line that does not fit the grammar.
    public mutating func next() throws(MassifError) -> Event? {
        guard let packed = try nextPacked() else { return nil }
        return event(packed)
    }

    /// `next()` with packed trees.
    public mutating func nextPacked() throws(MassifError) -> PackedEvent? {
        let bytes = buffer
        let result: PackedEvent?? = try bytes.withUnsafeBufferPointer { (all) throws(MassifError) -> PackedEvent?? in
            guard let base = all.baseAddress else { return nil }
            while position < all.count {
                let start = position
                // memchr scans for the newline a word at a time; a byte loop here was a tenth of the parse.
                guard let found = memchr(base + start, 0x0A, all.count - start) else {
                    try checkPartialLine(length: all.count - start)
                    return nil
                }
                let end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
                try checkPartialLine(length: end - start)
                position = end + 1
                lineNumber += 1
                if let event = try dispatch(UnsafeBufferPointer(rebasing: all[start..<end])) {
                    return .some(event)
                }
            }
            return nil
        }
        if let event = result { return event }
        if !inputEnded {
            if position > 0 && position * 2 >= buffer.count {
                buffer.removeFirst(position)
                position = 0
            }
            return nil
        }
        if position < buffer.count {
            throw MassifError(
                fileName: fileName,
                line: lineNumber + 1,
                expected: "a line ending in a newline",
                found: "end of file after \(MassifError.quote(buffer[position...]))"
            )
        }
        if state == .firstSeparator && snapshotCount > 0 { return nil }
        throw error(expected: expectation, found: "end of file", line: lineNumber + 1)
    }

    /// Throws when a line (complete or still waiting for its newline) is longer than `maximumLineLength`, naming
    /// the line and its byte offset so the user can look at it.
    private func checkPartialLine(length: Int) throws(MassifError) {
        guard length > Self.maximumLineLength else { return }
        throw MassifError(
            fileName: fileName,
            line: lineNumber + 1,
            expected: "a line of at most \(Self.maximumLineLength) bytes (1 MiB)",
            found: "\(length) bytes without a newline; the file is not one Valgrind wrote, or is corrupt"
        )
    }

    /// What the grammar wants next, for error messages.
    private var expectation: String {
        switch state {
        case .desc: return descLines.isEmpty ? "a \"desc:\" line" : "a \"desc:\" or \"cmd:\" line"
        case .timeUnit: return "a \"time_unit: i|ms|B\" line"
        case .firstSeparator: return snapshotCount == 0 ? "a snapshot (\"#-----------\")" : "\"#-----------\""
        case .snapshotNumber: return "a \"snapshot=\" line"
        case .secondSeparator: return "\"#-----------\""
        case .time: return "a \"time=\" line"
        case .heap: return "a \"mem_heap_B=\" line"
        case .extra: return "a \"mem_heap_extra_B=\" line"
        case .stacks: return "a \"mem_stacks_B=\" line"
        case .heapTree: return "a \"heap_tree=empty|detailed|peak\" line"
        case .tree:
            guard let parent = stack.last else { return "the tree's top line (\"n<k>: <bytes> (heap ...\")" }
            return "child \(parent.seen + 1) of \(parent.expected) of the node at line \(parent.line), "
                + "indented by \(stack.count) space\(stack.count == 1 ? "" : "s")"
        }
    }

    private func error(expected: String, found: String, line: Int? = nil) -> MassifError {
        MassifError(fileName: fileName, line: line ?? lineNumber, expected: expected, found: found)
    }

    private func error(expected: String, line text: UnsafeBufferPointer<UInt8>) -> MassifError {
        error(expected: expected, found: MassifError.quote(text))
    }

    // MARK: Lines

    /// One line: tree lines (most of a file) straight to `treeLine`, the others through `line`.
    @inline(__always)
    private mutating func dispatch(_ text: UnsafeBufferPointer<UInt8>) throws(MassifError) -> PackedEvent? {
        if state == .tree {
            return try treeLine(text) ? completeTree() : nil
        }
        return try line(text)
    }

    private mutating func line(_ text: UnsafeBufferPointer<UInt8>) throws(MassifError) -> PackedEvent? {
        switch state {
        case .desc:
            if let rest = text.after(Literal.desc) {
                descLines.append(try utf8(rest, line: text))
            } else if let rest = text.after(Literal.cmd) {
                cmdLine = try utf8(rest, line: text)
                state = .timeUnit
            } else {
                throw error(expected: expectation, line: text)
            }
        case .timeUnit:
            guard let rest = text.after(Literal.timeUnit),
                let unit = TimeUnit(rawValue: String(decoding: rest, as: UTF8.self))
            else {
                throw error(expected: expectation, line: text)
            }
            state = .firstSeparator
            return .header(MassifHeader(descLines: descLines, cmdLine: cmdLine, timeUnit: unit))
        case .firstSeparator:
            guard text.elementsEqual(Literal.separator) else { throw error(expected: expectation, line: text) }
            pending = PendingSnapshot()
            state = .snapshotNumber
        case .snapshotNumber:
            pending.index = try number(text, field: Literal.snapshot)
            state = .secondSeparator
        case .secondSeparator:
            guard text.elementsEqual(Literal.separator) else { throw error(expected: expectation, line: text) }
            state = .time
        case .time:
            pending.time = try number(text, field: Literal.time)
            state = .heap
        case .heap:
            pending.heap = try number(text, field: Literal.heap)
            state = .extra
        case .extra:
            pending.extra = try number(text, field: Literal.extra)
            state = .stacks
        case .stacks:
            pending.stacks = try number(text, field: Literal.stacks)
            state = .heapTree
        case .heapTree:
            guard let rest = text.after(Literal.heapTree) else { throw error(expected: expectation, line: text) }
            let (partial, overflow1) = pending.heap.addingReportingOverflow(pending.extra)
            let (total, overflow2) = partial.addingReportingOverflow(pending.stacks)
            if overflow1 || overflow2 {
                throw error(
                    expected: "mem_heap_B + mem_heap_extra_B + mem_stacks_B of at most \(Int.max)",
                    found: "a larger sum in the lines before"
                )
            }
            pending.total = total
            if rest.elementsEqual(Literal.empty) {
                return finishSnapshot(tree: nil, kind: .empty)
            } else if rest.elementsEqual(Literal.detailed) {
                pending.kind = .detailed
            } else if rest.elementsEqual(Literal.peak) {
                pending.kind = .peak
            } else {
                throw error(expected: "\"empty\", \"detailed\" or \"peak\" after \"heap_tree=\"", line: text)
            }
            state = .tree
        case .tree:
            return try treeLine(text) ? completeTree() : nil
        }
        return nil
    }

    /// The snapshot whose tree `treeLine` has just completed.
    private mutating func completeTree() -> PackedEvent {
        let tree = PackedTree(top: pending.top, nodes: nodes)
        previousTree = tree.nodes
        // The next tree is likely the same size: room for it up front saves the regrowths.
        nodes = []
        nodes.reserveCapacity(tree.nodes.count)
        return finishSnapshot(tree: tree, kind: pending.kind)
    }

    private mutating func finishSnapshot(tree: PackedTree?, kind: Snapshot.Kind) -> PackedEvent {
        state = .firstSeparator
        snapshotCount += 1
        var newFrames: [Frame] = []
        if framesHandedOut < frames.frames.count {
            newFrames = Array(frames.frames[framesHandedOut...])
            framesHandedOut = frames.frames.count
        }
        return .snapshot(
            PackedSnapshot(
                index: pending.index,
                time: pending.time,
                heapBytes: pending.heap,
                extraBytes: pending.extra,
                stacksBytes: pending.stacks,
                kind: kind,
                tree: tree,
                newFrames: newFrames
            )
        )
    }

    /// `<field>=<decimal>` with nothing else on the line (`ms_print.in:equals_num_line`, minus its leniency).
    private func number(_ text: UnsafeBufferPointer<UInt8>, field: [UInt8]) throws(MassifError) -> Int {
        guard let rest = text.after(field) else { throw error(expected: expectation, line: text) }
        guard let value = rest.decimal() else {
            let name = String(decoding: field.dropLast(), as: UTF8.self)
            throw error(expected: "a number after \"\(name)=\" (digits, no sign, no leading zeros)", line: text)
        }
        return value
    }

    /// Text fields must be valid UTF-8: a replacement character would break the byte-for-byte round trip.
    private func utf8(
        _ bytes: UnsafeBufferPointer<UInt8>,
        line text: UnsafeBufferPointer<UInt8>
    ) throws(MassifError)
        -> String
    {
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw error(expected: "UTF-8 text", line: text)
        }
        return string
    }

    // MARK: Trees

    /// Reads one line of a tree into `nodes`; true when it completes the tree.
    ///
    /// The hot path of the parser (nine lines in ten of a file): it returns a flag rather than an event, and a
    /// leaf (most lines) is never pushed on `stack`.
    private mutating func treeLine(_ text: UnsafeBufferPointer<UInt8>) throws(MassifError) -> Bool {
        let depth = stack.count
        // Exactly `depth` spaces then `n`: the byte after the indentation first, then the spaces 8 at a time.
        guard depth < text.count, text[depth] == UInt8(ascii: "n"), text.isSpaces(upTo: depth) else {
            throw error(expected: expectation, line: text)
        }
        guard let (childCount, afterCount) = text.decimalPrefix(from: depth + 1),
            afterCount + 1 < text.count, text[afterCount] == UInt8(ascii: ":"),
            text[afterCount + 1] == UInt8(ascii: " "),
            let (bytes, afterBytes) = text.decimalPrefix(from: afterCount + 2),
            afterBytes < text.count, text[afterBytes] == UInt8(ascii: " ")
        else {
            throw error(expected: "a tree node line (\"n<children>: <bytes> <description>\")", line: text)
        }
        let description = UnsafeBufferPointer(rebasing: text[(afterBytes + 1)...])
        let total = pending.total
        if bytes > total {
            throw error(
                expected: "a node of at most the snapshot's total, \(total) bytes (ms_print refuses more)",
                line: text
            )
        }
        let position = nodes.count
        if depth == 0 {
            guard let top = TopDescription.allCases.first(where: { description.elementsEqual($0.rawValue.utf8) })
            else {
                throw error(
                    expected: "\"(heap allocation functions) ...\", \"(page allocation syscalls) ...\" or an xtree "
                        + "event (\"curB : currently allocated Bytes\", ...)",
                    line: text
                )
            }
            pending.top = top
            nodes.append(PackedTree.Node(bytes: bytes, end: childCount == 0 ? 1 : -1, frame: -1))
            if childCount == 0 { return true }
            stack.append(OpenNode(position: position, expected: childCount, line: lineNumber))
            return false
        }
        if depth >= Self.maximumDepth {
            throw error(expected: "a tree at most \(Self.maximumDepth) levels deep", line: text)
        }
        // Successive snapshots mostly repeat the tree before them: the frame at the same position in the
        // previous tree is the right one for most lines (86% of a mariadbd file), checked by comparing the
        // bytes, which saves hashing them.
        let frame: Int32
        if position < previousTree.count, case let guess = previousTree[position].frame, guess >= 0,
            let known = frames.entry(guess, ifEqualTo: description), !known.isBelowThreshold || childCount == 0
        {
            frame = guess
        } else {
            frame = try self.frame(description, childCount: childCount, line: text)
        }
        stack[depth - 1].seen += 1
        if childCount > 0 {
            // Its children come next: nothing can be complete yet.
            nodes.append(PackedTree.Node(bytes: bytes, end: -1, frame: frame))
            stack.append(OpenNode(position: position, expected: childCount, line: lineNumber))
            return false
        }
        nodes.append(PackedTree.Node(bytes: bytes, end: position + 1, frame: frame))
        // A leaf may complete its parent, and so on up: mark where each completed subtree ends.
        var open = depth - 1
        while stack[open].seen == stack[open].expected {
            let completed = stack[open].position
            nodes[completed].end = position + 1
            stack.removeLast()
            if completed == 0 { return true }
            open -= 1
        }
        return false
    }

    /// The number of the frame a description names; the first occurrence of each is checked and decoded.
    private mutating func frame(
        _ description: UnsafeBufferPointer<UInt8>,
        childCount: Int,
        line text: UnsafeBufferPointer<UInt8>
    ) throws(MassifError) -> Int32 {
        if let known = frames.find(description) {
            if known.isBelowThreshold && childCount != 0 { throw belowThresholdError(line: text) }
            return known.number
        }
        let frame: Frame
        if let places = description.after(Literal.belowIn) {
            guard childCount == 0, let below = Self.belowThreshold(places) else {
                throw belowThresholdError(line: text)
            }
            frame = below
        } else {
            let key = try utf8(description, line: text)
            guard let code = CodeFrame(text: key) else {
                throw error(expected: "a code frame (\"0x<address>: <function>\")", line: text)
            }
            frame = .code(code)
        }
        guard let number = frames.insert(description, frame) else {
            throw error(expected: "at most \(FrameInterner.capacity) distinct frames in one file", line: text)
        }
        return number
    }

    private func belowThresholdError(line text: UnsafeBufferPointer<UInt8>) -> MassifError {
        error(expected: "\"n0: <bytes> in <m> place(s), (all) below massif's threshold (<t>%)\"", line: text)
    }

    /// `<m> place, below massif's threshold (<t>%)` when m is 1, `<m> places, all below ...` otherwise
    /// (`m_xtree.c:ms_output_group`).
    private static func belowThreshold(_ text: UnsafeBufferPointer<UInt8>) -> Frame? {
        guard let (places, afterPlaces) = text.decimalPrefix(from: 0), places > 0 else { return nil }
        let rest = UnsafeBufferPointer(rebasing: text[afterPlaces...])
        let wording = places == 1 ? Literal.onePlace : Literal.manyPlaces
        guard let percent = rest.after(wording), let (whole, afterWhole) = percent.decimalPrefix(from: 0),
            percent.count == afterWhole + 5, percent[afterWhole] == UInt8(ascii: "."),
            percent[afterWhole + 3] == UInt8(ascii: "%"), percent[afterWhole + 4] == UInt8(ascii: ")")
        else { return nil }
        let tens = percent[afterWhole + 1] &- UInt8(ascii: "0")
        let units = percent[afterWhole + 2] &- UInt8(ascii: "0")
        guard tens < 10, units < 10, whole <= Int.max / 1000 else { return nil }
        return .belowThreshold(places: places, thresholdHundredths: whole * 100 + Int(tens) * 10 + Int(units))
    }
}

/// The fixed spellings of the format, as bytes.
enum Literal {
    static let desc = Array("desc:".utf8)
    static let cmd = Array("cmd:".utf8)
    static let timeUnit = Array("time_unit: ".utf8)
    static let separator = Array("#-----------".utf8)
    static let snapshot = Array("snapshot=".utf8)
    static let time = Array("time=".utf8)
    static let heap = Array("mem_heap_B=".utf8)
    static let extra = Array("mem_heap_extra_B=".utf8)
    static let stacks = Array("mem_stacks_B=".utf8)
    static let heapTree = Array("heap_tree=".utf8)
    static let empty = Array("empty".utf8)
    static let detailed = Array("detailed".utf8)
    static let peak = Array("peak".utf8)
    static let belowIn = Array("in ".utf8)
    static let onePlace = Array(" place, below massif's threshold (".utf8)
    static let manyPlaces = Array(" places, all below massif's threshold (".utf8)
}

extension UnsafeBufferPointer<UInt8> {
    /// The rest of the buffer after `prefix`, or nil when it does not start with it.
    fileprivate func after(_ prefix: [UInt8]) -> UnsafeBufferPointer<UInt8>? {
        guard count >= prefix.count else { return nil }
        for index in 0..<prefix.count where self[index] != prefix[index] { return nil }
        return UnsafeBufferPointer(rebasing: self[prefix.count...])
    }

    /// The whole buffer as a canonical decimal (`0` or no leading zero), nil on anything else or overflow.
    fileprivate func decimal() -> Int? {
        guard let (value, end) = decimalPrefix(from: 0), end == count else { return nil }
        return value
    }

    /// A canonical decimal starting at `start` and the index after it.
    ///
    /// Where 8 bytes are left (always in a tree line, whose description follows the numbers), the digits are
    /// found and combined 8 bytes at a time, without a branch per digit; 8 digits or more take the loop.
    @inline(__always)
    fileprivate func decimalPrefix(from start: Int) -> (Int, Int)? {
        guard start >= 0, start + 8 <= count, let base = baseAddress else { return decimalPrefixByDigit(from: start) }
        let word = UInt64(littleEndian: UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self))
        // A digit becomes 0...9; any other byte has its top bit set in `notDigits` (bytes of 128 and more by
        // their own top bit, 10...127 by the addition, which cannot carry into the next byte).
        let digits = word ^ 0x3030_3030_3030_3030
        let notDigits = (((digits & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7676_7676_7676_7676) | digits) & 0x8080_8080_8080_8080
        let length = notDigits.trailingZeroBitCount >> 3
        if length == 0 { return nil }
        // `0` alone: a digit after a leading zero is not canonical.
        if digits & 0xFF == 0 { return length == 1 ? (0, start + 1) : nil }
        if length == 8 { return decimalPrefixByDigit(from: start) }
        // The digits moved to the top (zeros before them), then pairs, quads and octets combined.
        var value = digits << UInt64(64 - 8 * length)
        value = ((value & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
        value = ((value & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        value = ((value & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
        return (Int(truncatingIfNeeded: value), start + length)
    }

    /// `decimalPrefix` a digit at a time, checking for overflow past 18 digits.
    fileprivate func decimalPrefixByDigit(from start: Int) -> (Int, Int)? {
        guard start < count else { return nil }
        let first = self[start] &- UInt8(ascii: "0")
        guard first < 10 else { return nil }
        var index = start + 1
        if first == 0 {
            if index < count && self[index] &- UInt8(ascii: "0") < 10 { return nil }
            return (0, index)
        }
        var value = Int(first)
        // Up to 18 digits cannot overflow: no checks for those.
        let unchecked = Swift.min(count, start + 18)
        while index < unchecked {
            let digit = self[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return (value, index) }
            value = value &* 10 &+ Int(digit)
            index += 1
        }
        while index < count {
            let digit = self[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(digit))
            if overflow1 || overflow2 { return nil }
            value = sum
            index += 1
        }
        return (value, index)
    }

    /// True when the first `count` bytes are all spaces (the caller checked that there are that many).
    @inline(__always)
    fileprivate func isSpaces(upTo length: Int) -> Bool {
        guard let base = baseAddress else { return length == 0 }
        let spaces: UInt64 = 0x2020_2020_2020_2020
        var index = 0
        while index + 8 <= length {
            if UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) != spaces { return false }
            index += 8
        }
        while index < length {
            if base[index] != UInt8(ascii: " ") { return false }
            index += 1
        }
        return true
    }
}
