extension MassifFile {
    /// The file in Massif's format, byte for byte what `parse` read (`m_xtree.c:VG_(XT_massif_open)`,
    /// `VG_(XT_massif_print)` and `ms_output_group`: one more leading space per tree level).
    public func serialized() -> [UInt8] {
        var writer = MassifWriter()
        writer.write(header)
        for snapshot in snapshots {
            writer.write(snapshot)
        }
        return writer.bytes
    }

    /// The file as text (massif files are ASCII apart from file and function names, which are UTF-8 in practice).
    public func serializedText() -> String {
        String(decoding: serialized(), as: UTF8.self)
    }
}

/// Appends massif text to a byte buffer without building intermediate strings.
struct MassifWriter {
    var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(1 << 16)
    }

    mutating func write(_ header: MassifHeader) {
        for line in header.descLines {
            append(Literal.desc)
            append(line)
            newline()
        }
        append(Literal.cmd)
        append(header.cmdLine)
        newline()
        append(Literal.timeUnit)
        append(header.timeUnit.raw)
        newline()
    }

    mutating func write(_ snapshot: Snapshot) {
        append(Literal.separator)
        newline()
        field(Literal.snapshot, snapshot.index)
        append(Literal.separator)
        newline()
        field(Literal.time, snapshot.time)
        field(Literal.heap, snapshot.heapBytes)
        field(Literal.extra, snapshot.extraBytes)
        field(Literal.stacks, snapshot.stacksBytes)
        append(Literal.heapTree)
        guard let tree = snapshot.tree else {
            append(Literal.empty)
            newline()
            return
        }
        append(snapshot.kind == .peak ? Literal.peak : Literal.detailed)
        newline()
        nodeLine(depth: 0, childCount: tree.children.count, bytes: tree.bytes, text: tree.top.rawValue)
        for child in tree.children {
            write(child, depth: 1)
        }
    }

    private mutating func write(_ node: HeapNode, depth: Int) {
        nodeLine(depth: depth, childCount: node.children.count, bytes: node.bytes, text: node.frame.text)
        for child in node.children {
            write(child, depth: depth + 1)
        }
    }

    private mutating func nodeLine(depth: Int, childCount: Int, bytes nodeBytes: Int, text: String) {
        for _ in 0..<depth { bytes.append(UInt8(ascii: " ")) }
        bytes.append(UInt8(ascii: "n"))
        decimal(childCount)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(UInt8(ascii: " "))
        decimal(nodeBytes)
        bytes.append(UInt8(ascii: " "))
        append(text)
        newline()
    }

    private mutating func field(_ name: [UInt8], _ value: Int) {
        append(name)
        decimal(value)
        newline()
    }

    mutating func append(_ literal: [UInt8]) {
        bytes.append(contentsOf: literal)
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func newline() {
        bytes.append(0x0A)
    }

    /// Appends a decimal without allocating: digits are written in place, last digit first.
    mutating func decimal(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        var digitCount = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digitCount += 1
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digitCount))
        var index = start + digitCount - 1
        while magnitude >= 10 {
            bytes[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            index -= 1
        }
        bytes[index] = UInt8(ascii: "0") + UInt8(magnitude)
    }
}
