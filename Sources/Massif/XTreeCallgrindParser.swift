#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming reader of xtree memory dumps in callgrind format (`xtmemory FILE` without `.ms` in the name;
/// `m_xtree.c:VG_(XT_callgrind_print)`).
///
/// Feed it chunks of any size with `consume(_:)`, then call `finish()`. Memory holds the call tree (one node per
/// distinct call path, a counter per event) and one partial line, never the text: a 30 MB dump of a few hundred
/// thousand lines becomes a tree of a few thousand nodes.
///
/// What Valgrind writes: a header (`# callgrind format`, `version:`, `creator: xtree-1`, `pid:`, `cmd:`,
/// `positions: line`, one `event:` line per event and `events: curB curBk ...`), then one block per allocation
/// stack, outermost frame first, ended by a blank line:
///
///     fl=(1) /tmp/xt.c        file of the frame (a number and the name the first time, the number after)
///     fn=(1) main             function of the frame
///     9                       the frame's line (no cost: not the last frame)
///     cfi=(1)                 the call to the next frame: its file, function and line
///     cfn=(2) sort_buffer
///     calls=0 5
///     9 28672 7 32768 8 0 0   the call's inclusive cost
///     fl=(1)
///     fn=(2)
///     5 28672 7 32768 8 0 0   the last frame: its line and the stack's cost, one number per event
///
/// and finally `totals:` with the sum of every stack's cost, which the parser checks. Every error is a
/// `MassifError` with the line number; sums are checked, never wrapped.
public struct XTreeCallgrindParser: Sendable {
    public let fileName: String
    private var partial: [UInt8] = []
    private var lineNumber = 0
    private var phase = Phase.header
    private var command = ""
    private var pid: Int?
    private var events: [XTreeEvent] = []
    private var files: [Int: String] = [:]
    private var functions: [Int: String] = [:]
    private var currentFile: String?
    /// The frames of the block being read, outermost first: (file, function, line).
    private var block: [(file: String, function: String, line: Int)] = []
    private var expectingPosition = ExpectedPosition.none
    private var blockCosts: [Int]?
    private var totalsChecked = false
    private var tree = CallTree()
    /// Each distinct frame made once: building and parsing its text per stack was most of the time.
    private var frameIDs: [FrameKey: Int] = [:]

    private struct FrameKey: Hashable {
        var file: String
        var function: String
        var line: Int
    }

    private enum Phase {
        case header
        case body
        case afterTotals
    }

    private enum ExpectedPosition {
        case none
        /// The line after `fn=`: the frame's own line, with the stack's costs when it is the last frame.
        case frame
        /// The line after `calls=`: the caller's line and the call's inclusive cost.
        case call
    }

    public init(fileName: String) {
        self.fileName = fileName
    }

    /// Reads the lines of `bytes`; a trailing partial line waits for the next call.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(MassifError) {
        let input = bytes.assumingMemoryBound(to: UInt8.self)
        guard let base = input.baseAddress, !input.isEmpty else { return }
        var start = 0
        if !partial.isEmpty {
            guard let found = memchr(base, 0x0A, input.count) else {
                partial.append(contentsOf: input)
                try checkPartialLength()
                return
            }
            start = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found)) + 1
            partial.append(contentsOf: UnsafeBufferPointer(rebasing: input[0..<(start - 1)]))
            let line = partial
            partial.removeAll(keepingCapacity: true)
            try line.withUnsafeBufferPointer { (text) throws(MassifError) in try self.line(text) }
        }
        while start < input.count {
            guard let found = memchr(base + start, 0x0A, input.count - start) else { break }
            let end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
            try line(UnsafeBufferPointer(rebasing: input[start..<end]))
            start = end + 1
        }
        partial.append(contentsOf: UnsafeBufferPointer(rebasing: input[start...]))
        try checkPartialLength()
    }

    /// Lines are at most this long: a file that is not text (no newline for megabytes) must not fill memory.
    public static let maximumLineLength = 1 << 20

    private func checkPartialLength() throws(MassifError) {
        if partial.count > Self.maximumLineLength {
            throw MassifError(
                fileName: fileName,
                line: lineNumber + 1,
                expected: "a line of at most \(Self.maximumLineLength) bytes",
                found: "a longer one starting \(MassifError.quote(partial.prefix(40)))"
            )
        }
    }

    /// Reads a whole dump held in memory.
    public static func parse(_ bytes: [UInt8], fileName: String) throws(MassifError) -> XTreeDump {
        var parser = XTreeCallgrindParser(fileName: fileName)
        var failure: MassifError?
        bytes.withUnsafeBytes { raw in
            do throws(MassifError) { try parser.consume(raw) } catch { failure = error }
        }
        if let failure { throw failure }
        return try parser.finish()
    }

    /// Ends the input and returns the dump.
    public mutating func finish() throws(MassifError) -> XTreeDump {
        if !partial.isEmpty {
            throw MassifError(
                fileName: fileName,
                line: lineNumber + 1,
                expected: "a line ending in a newline",
                found: "end of file after \(MassifError.quote(partial))"
            )
        }
        if phase == .header {
            throw error(expected: "an \"events:\" line naming xtree events", found: "end of file", line: lineNumber + 1)
        }
        try endBlock()
        if !totalsChecked {
            throw error(expected: "a \"totals:\" line", found: "end of file", line: lineNumber + 1)
        }
        var trees: [XTreeEvent: HeapTree] = [:]
        for (position, event) in events.enumerated() {
            trees[event] = tree.heapTree(event: position, top: TopDescription(event))
        }
        return XTreeDump(format: .callgrind, command: command, events: events, trees: trees, pid: pid)
    }

    // MARK: Lines

    private mutating func line(_ text: UnsafeBufferPointer<UInt8>) throws(MassifError) {
        lineNumber += 1
        switch phase {
        case .header: try headerLine(text)
        case .body: try bodyLine(text)
        case .afterTotals:
            guard text.isEmpty else { throw error(expected: "nothing after the \"totals:\" line", line: text) }
        }
    }

    private mutating func headerLine(_ text: UnsafeBufferPointer<UInt8>) throws(MassifError) {
        if text.isEmpty || text[0] == UInt8(ascii: "#") { return }
        let line = try utf8(text)
        if line.hasPrefix("cmd: ") {
            command = String(line.dropFirst(5))
        } else if line.hasPrefix("pid: ") {
            guard let value = Int(line.dropFirst(5)), value >= 0 else {
                throw error(expected: "a process id after \"pid: \"", line: text)
            }
            pid = value
        } else if line.hasPrefix("events:") {
            var seen: [XTreeEvent] = []
            for word in line.dropFirst(7).split(separator: " ") {
                guard let event = XTreeEvent(rawValue: String(word)), !seen.contains(event) else {
                    throw error(
                        expected: "xtree events (\(XTreeEvent.allCases.map(\.name).joined(separator: " "))), each once",
                        line: text
                    )
                }
                seen.append(event)
            }
            guard !seen.isEmpty else { throw error(expected: "at least one event after \"events:\"", line: text) }
            events = seen
            phase = .body
        } else if line.hasPrefix("positions:") {
            guard line.split(separator: " ").dropFirst().elementsEqual(["line"]) else {
                throw error(expected: "\"positions: line\" (xtree dumps have line positions only)", line: text)
            }
        } else if !(line.hasPrefix("version: ") || line.hasPrefix("creator: ") || line.hasPrefix("event: ")) {
            throw error(
                expected: "a callgrind header line (version:, creator:, pid:, cmd:, positions:, event:, events:)",
                line: text
            )
        }
    }

    private mutating func bodyLine(_ text: UnsafeBufferPointer<UInt8>) throws(MassifError) {
        if text.isEmpty {
            if expectingPosition != .none { throw error(expected: "a position line", line: text) }
            try endBlock()
            return
        }
        let first = text[0]
        if first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") {
            try positionLine(text)
            return
        }
        if expectingPosition != .none {
            throw error(expected: "a position line (\"<line> [<cost> ...]\")", line: text)
        }
        if first == UInt8(ascii: "#") { return }
        if let rest = text.after("fl=") {
            currentFile = try name(rest, in: &files, line: text)
        } else if let rest = text.after("fn=") {
            let function = try name(rest, in: &functions, line: text)
            guard let file = currentFile else { throw error(expected: "an \"fl=\" line before \"fn=\"", line: text) }
            if blockCosts != nil {
                throw error(expected: "a blank line after the stack's last frame", line: text)
            }
            if block.count >= MassifParser.maximumDepth {
                throw error(expected: "a stack at most \(MassifParser.maximumDepth) frames deep", line: text)
            }
            block.append((file, function, 0))
            expectingPosition = .frame
        } else if let rest = text.after("cfi=") ?? text.after("cfl=") {
            _ = try name(rest, in: &files, line: text)
        } else if let rest = text.after("cfn=") {
            _ = try name(rest, in: &functions, line: text)
        } else if let rest = text.after("calls=") {
            guard let numbers = rest.decimals(), numbers.count == 2 else {
                throw error(expected: "\"calls=<count> <line>\"", line: text)
            }
            expectingPosition = .call
        } else if let rest = text.after("totals:") {
            try endBlock()
            try checkTotals(
                UnsafeBufferPointer(rebasing: rest.dropFirst(rest.first == UInt8(ascii: " ") ? 1 : 0)),
                text
            )
            phase = .afterTotals
        } else {
            throw error(
                expected: "an xtree callgrind line (fl=, fn=, cfi=, cfn=, calls=, a position, totals:)",
                line: text
            )
        }
    }

    private mutating func positionLine(_ text: UnsafeBufferPointer<UInt8>) throws(MassifError) {
        guard let numbers = text.decimals(), let line = numbers.first else {
            throw error(expected: "a position line: the line number and costs, as unsigned decimals", line: text)
        }
        let costs = Array(numbers.dropFirst())
        guard costs.isEmpty || costs.count == events.count else {
            throw error(expected: "\(events.count) costs, one per event", line: text)
        }
        switch expectingPosition {
        case .frame:
            block[block.count - 1].line = line
            if !costs.isEmpty { blockCosts = costs }
        case .call:
            guard !costs.isEmpty else { throw error(expected: "the call's cost after the line number", line: text) }
        case .none:
            throw error(expected: "an \"fn=\" or \"calls=\" line before a position line", line: text)
        }
        expectingPosition = .none
    }

    /// A blank line (or `totals:`, or the end) ends a stack: it goes into the tree.
    private mutating func endBlock() throws(MassifError) {
        defer {
            block.removeAll(keepingCapacity: true)
            blockCosts = nil
        }
        guard !block.isEmpty else { return }
        guard let costs = blockCosts else {
            throw error(expected: "the stack's cost on its last frame's line", found: "a blank line")
        }
        var frames: [Int] = []
        frames.reserveCapacity(block.count)
        for frame in block.reversed() {
            let key = FrameKey(file: frame.file, function: frame.function, line: frame.line)
            if let known = frameIDs[key] {
                frames.append(known)
                continue
            }
            guard
                let code = CodeFrame(text: Self.frameText(file: frame.file, function: frame.function, line: frame.line))
            else { throw error(expected: "a frame with a function name", found: "\"\(frame.function)\"") }
            let id = tree.frameID(code)
            frameIDs[key] = id
            frames.append(id)
        }
        guard tree.add(path: frames, costs: costs) else {
            throw error(expected: "costs whose sums stay below \(Int.max)", found: "a larger sum after this stack")
        }
    }

    private mutating func checkTotals(
        _ rest: UnsafeBufferPointer<UInt8>,
        _ text: UnsafeBufferPointer<UInt8>
    ) throws(MassifError) {
        guard let totals = rest.decimals(), totals.count == events.count else {
            throw error(expected: "\"totals:\" and \(events.count) numbers", line: text)
        }
        let sums = tree.rootValues(count: events.count)
        guard totals == sums else {
            throw error(
                expected: "totals equal to the sums of the stacks (\(sums.map(String.init).joined(separator: " ")))",
                line: text
            )
        }
        totalsChecked = true
    }

    /// `fl=(3) name` defines number 3; `fl=(3)` uses it; `fl=name` (`--xtree-compress-strings=no`) names directly.
    private func name(
        _ rest: UnsafeBufferPointer<UInt8>,
        in table: inout [Int: String],
        line text: UnsafeBufferPointer<UInt8>
    ) throws(MassifError) -> String {
        guard rest.first == UInt8(ascii: "(") else { return try utf8(rest, line: text) }
        guard let close = rest.firstIndex(of: UInt8(ascii: ")")),
            let number = UnsafeBufferPointer(rebasing: rest[1..<close]).decimals(), number.count == 1
        else {
            throw error(expected: "\"(<number>)\" or \"(<number>) <name>\"", line: text)
        }
        if close + 1 == rest.count {
            guard let known = table[number[0]] else {
                throw error(expected: "a name number defined earlier in the file", line: text)
            }
            return known
        }
        guard rest[close + 1] == UInt8(ascii: " ") else {
            throw error(expected: "\"(<number>) <name>\"", line: text)
        }
        let value = try utf8(UnsafeBufferPointer(rebasing: rest[(close + 2)...]), line: text)
        table[number[0]] = value
        return value
    }

    /// A frame as `VG_(describe_IP)` would write it, without the address the format does not carry.
    static func frameText(file: String, function: String, line: Int) -> String {
        let name = function == "UnknownFn???" || function.isEmpty ? "???" : function
        if file == "UnknownFile???" || file.isEmpty { return "0x0: \(name)" }
        return "0x0: \(name) (\(file):\(line))"
    }

    private func utf8(
        _ bytes: UnsafeBufferPointer<UInt8>,
        line text: UnsafeBufferPointer<UInt8>? = nil
    )
        throws(MassifError) -> String
    {
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw error(expected: "UTF-8 text", line: text ?? bytes)
        }
        return string
    }

    private func error(expected: String, found: String, line: Int? = nil) -> MassifError {
        MassifError(fileName: fileName, line: line ?? lineNumber, expected: expected, found: found)
    }

    private func error(expected: String, line text: UnsafeBufferPointer<UInt8>) -> MassifError {
        error(expected: expected, found: MassifError.quote(text))
    }
}

/// The call paths of a callgrind-format dump, merged: node 0 is the root (the allocation functions), each
/// node's children are its callers. Costs are summed per node and event with overflow checks.
struct CallTree: Sendable {
    private struct ChildKey: Hashable {
        var parent: Int
        var frame: Int
    }

    private var frameIDs: [String: Int] = [:]
    private var frameTexts: [String] = []
    private var frames: [Frame] = []
    private var nodeFrame: [Int] = [-1]
    private var children: [[Int]] = [[]]
    private var values: [[Int]] = [[]]
    private var childIndex: [ChildKey: Int] = [:]

    /// The number of a frame, the same for equal descriptions.
    mutating func frameID(_ code: CodeFrame) -> Int {
        if let known = frameIDs[code.text] { return known }
        let id = frameTexts.count
        frameIDs[code.text] = id
        frameTexts.append(code.text)
        frames.append(.code(code))
        return id
    }

    /// Adds a stack of frame numbers (allocation site first); false when a sum would pass `Int.max`.
    mutating func add(path: [Int], costs: [Int]) -> Bool {
        if values[0].isEmpty { values[0] = Array(repeating: 0, count: costs.count) }
        guard Self.accumulate(&values[0], costs) else { return false }
        var node = 0
        for frame in path {
            let key = ChildKey(parent: node, frame: frame)
            let child: Int
            if let known = childIndex[key] {
                child = known
            } else {
                child = nodeFrame.count
                nodeFrame.append(frame)
                children.append([])
                values.append(Array(repeating: 0, count: costs.count))
                children[node].append(child)
                childIndex[key] = child
            }
            guard Self.accumulate(&values[child], costs) else { return false }
            node = child
        }
        return true
    }

    private static func accumulate(_ into: inout [Int], _ costs: [Int]) -> Bool {
        for index in costs.indices {
            let (sum, overflow) = into[index].addingReportingOverflow(costs[index])
            if overflow { return false }
            into[index] = sum
        }
        return true
    }

    func rootValues(count: Int) -> [Int] {
        values[0].isEmpty ? Array(repeating: 0, count: count) : values[0]
    }

    /// The tree of one event: nodes with a zero count left out, siblings largest first (ties by description).
    func heapTree(event: Int, top: TopDescription) -> HeapTree {
        func build(_ node: Int) -> [HeapNode] {
            children[node]
                .filter { values[$0][event] > 0 }
                .sorted {
                    values[$0][event] != values[$1][event]
                        ? values[$0][event] > values[$1][event] : frameTexts[nodeFrame[$0]] < frameTexts[nodeFrame[$1]]
                }
                .map { HeapNode(bytes: values[$0][event], frame: frames[nodeFrame[$0]], children: build($0)) }
        }
        let total = values[0].isEmpty ? 0 : values[0][event]
        return HeapTree(top: top, bytes: total, children: build(0))
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The rest after an ASCII prefix, or nil.
    fileprivate func after(_ prefix: StaticString) -> UnsafeBufferPointer<UInt8>? {
        let count = prefix.utf8CodeUnitCount
        guard self.count >= count else { return nil }
        let start = prefix.utf8Start
        for index in 0..<count where self[index] != start[index] { return nil }
        return UnsafeBufferPointer(rebasing: self[count...])
    }

    /// Space-separated unsigned decimals (at least one; canonical, no overflow), or nil.
    fileprivate func decimals() -> [Int]? {
        var result: [Int] = []
        var index = 0
        while index < count {
            if self[index] == UInt8(ascii: " ") {
                index += 1
                continue
            }
            let start = index
            var value = 0
            while index < count, self[index] != UInt8(ascii: " ") {
                let digit = self[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                if index > start && value == 0 { return nil }
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(digit))
                if overflow1 || overflow2 { return nil }
                value = sum
                index += 1
            }
            result.append(value)
        }
        return result.isEmpty ? nil : result
    }
}
