/// The allocation tree of a detailed or peak snapshot.
///
/// The root is the line without indentation (`n<k>: <bytes> (heap allocation functions) ...`); every other line
/// is a `HeapNode`. Massif writes siblings sorted by bytes, largest first, ties by code address
/// (`m_xtree.c:ms_group_revcmp_total`); the parser keeps the file's order so that the writer can reproduce it.
public struct HeapTree: Sendable, Hashable, Codable {
    /// Which of the two fixed top descriptions the root line carries.
    public var top: TopDescription
    /// The root's bytes: all heap bytes the tree accounts for (equal to `mem_heap_B` in files Massif writes).
    public var bytes: Int
    public var children: [HeapNode]

    public init(top: TopDescription = .heapAllocationFunctions, bytes: Int, children: [HeapNode]) {
        self.top = top
        self.bytes = bytes
        self.children = children
    }

    /// Bytes allocated by the allocation functions themselves with no caller recorded: the root's bytes minus its
    /// children's (never negative).
    public var exclusiveBytes: Int {
        HeapArithmetic.exclusive(bytes, children: children)
    }

    /// Number of nodes below the root, at every depth.
    public var nodeCount: Int {
        var count = 0
        var stack = children[...].map { $0 }
        while let node = stack.popLast() {
            count += 1
            stack.append(contentsOf: node.children)
        }
        return count
    }
}

/// The text of the root line after the byte count (`m_xtree.c:VG_(XT_massif_print)`).
///
/// Massif's own files have one of the first two. An xtree dump in Massif's format (`xtmemory FILE.ms`,
/// `m_xtmemory.c:produce_report`) writes one snapshot per event and puts the event's description on the root line,
/// e.g. `n391: 46841855 curB : currently allocated Bytes`.
public enum TopDescription: String, Sendable, Hashable, Codable, CaseIterable {
    /// The normal heap profile.
    case heapAllocationFunctions = "(heap allocation functions) malloc/new/new[], --alloc-fns, etc."
    /// `--pages-as-heap=yes`: pages mapped by the process.
    case pageAllocationSyscalls = "(page allocation syscalls) mmap/mremap/brk, --alloc-fns, etc."
    /// Xtree dump: bytes in use.
    case xtreeCurrentBytes = "curB : currently allocated Bytes"
    /// Xtree dump: blocks in use.
    case xtreeCurrentBlocks = "curBk : currently allocated Blocks"
    /// Xtree dump: bytes allocated since the start.
    case xtreeTotalBytes = "totB : total allocated Bytes"
    /// Xtree dump: allocation calls since the start.
    case xtreeTotalBlocks = "totBk : total allocated Blocks"
    /// Xtree dump: bytes freed since the start (attributed to the stack that freed them).
    case xtreeFreedBytes = "totFdB : total Freed Bytes"
    /// Xtree dump: blocks freed since the start.
    case xtreeFreedBlocks = "totFdBk : total Freed Blocks"

    /// The xtree event of an xtree dump's tree; nil for Massif's own trees.
    public var xtreeEvent: XTreeEvent? {
        switch self {
        case .heapAllocationFunctions, .pageAllocationSyscalls: return nil
        case .xtreeCurrentBytes: return .currentBytes
        case .xtreeCurrentBlocks: return .currentBlocks
        case .xtreeTotalBytes: return .totalBytes
        case .xtreeTotalBlocks: return .totalBlocks
        case .xtreeFreedBytes: return .freedBytes
        case .xtreeFreedBlocks: return .freedBlocks
        }
    }

    /// The root description of an xtree dump's tree for `event`.
    public init(_ event: XTreeEvent) {
        switch event {
        case .currentBytes: self = .xtreeCurrentBytes
        case .currentBlocks: self = .xtreeCurrentBlocks
        case .totalBytes: self = .xtreeTotalBytes
        case .totalBlocks: self = .xtreeTotalBlocks
        case .freedBytes: self = .xtreeFreedBytes
        case .freedBlocks: self = .xtreeFreedBlocks
        }
    }
}

/// One line of a tree below the root: a code frame with its callers below it, or the aggregate of the
/// sites below Massif's threshold.
public struct HeapNode: Sendable, Hashable, Codable {
    /// Inclusive bytes: everything allocated through this frame (the number after `n<k>:`).
    public var bytes: Int
    public var frame: Frame
    /// The callers of this frame, in file order. An inlined call shows up as a chain of single children with the
    /// same bytes (`m_xtree.c`, the `VG_(next_IIPC)` loop).
    public var children: [HeapNode]

    public init(bytes: Int, frame: Frame, children: [HeapNode] = []) {
        self.bytes = bytes
        self.frame = frame
        self.children = children
    }

    /// Bytes allocated with a stack ending exactly here (depth limit reached, or no caller known): inclusive
    /// bytes minus the children's, never negative.
    public var exclusiveBytes: Int {
        HeapArithmetic.exclusive(bytes, children: children)
    }
}

/// What a tree line below the root describes.
public enum Frame: Sendable, Hashable, Codable {
    /// A code address with its description (`debuginfo.c:VG_(describe_IP)`).
    indirect case code(CodeFrame)
    /// `in <m> place(s), (all) below massif's threshold (<t>%)`: the sites too small to show, merged by Massif
    /// (`m_xtree.c:ms_output_group`). `thresholdHundredths` is the `%.2f` threshold times 100 (1.00% is 100).
    case belowThreshold(places: Int, thresholdHundredths: Int)

    /// The code frame, if this is one.
    public var code: CodeFrame? {
        if case .code(let frame) = self { return frame }
        return nil
    }

    /// The text after the byte count, exactly as Massif writes it.
    public var text: String {
        switch self {
        case .code(let frame):
            return frame.text
        case .belowThreshold(let places, let hundredths):
            let percent = Self.formatHundredths(hundredths)
            if places == 1 {
                return "in 1 place, below massif's threshold (\(percent)%)"
            }
            return "in \(places) places, all below massif's threshold (\(percent)%)"
        }
    }

    /// `%.2f` of a value stored in hundredths.
    static func formatHundredths(_ value: Int) -> String {
        let fraction = value % 100
        return "\(value / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// A code address as `VG_(describe_IP)` prints it: `0x<HEX>: <function or ???>[ (<location>)]`.
///
/// `text` is the whole description and the source of truth (the writer prints it unchanged); the other fields
/// are read from it once, when the parser first meets the text.
public struct CodeFrame: Sendable, Hashable, Codable {
    /// The description exactly as in the file, e.g. `0x10000B0: my_malloc (in /usr/sbin/mariadbd)`.
    public let text: String
    public let address: UInt64
    /// The (demangled) function name, `???` when unknown. May contain spaces and parentheses.
    public let function: String
    /// The text inside the trailing parentheses: `in <object>` or `<dir/>file:line`; nil when absent.
    public let location: String?

    /// Reads a description; nil when it does not start with `0x<hex digits>: `.
    ///
    /// Function and location are split as `debuginfo.c:VG_(describe_IP)` joins them: the location is the last
    /// balanced parenthesised group when it is preceded by a space, so that `f(int) (a.c:3)` and
    /// `(below main) (in /lib/libc.so.6)` split right and `f(int)` alone stays a function.
    public init?(text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 5, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "x") else { return nil }
        var position = 2
        var address: UInt64 = 0
        while position < bytes.count, let digit = Self.hexValue(bytes[position]) {
            if address > (UInt64.max >> 4) { return nil }
            address = address << 4 | UInt64(digit)
            position += 1
        }
        guard position > 2, position + 1 < bytes.count, bytes[position] == UInt8(ascii: ":"),
            bytes[position + 1] == UInt8(ascii: " ")
        else { return nil }
        let rest = bytes[(position + 2)...]
        guard !rest.isEmpty else { return nil }
        self.text = text
        self.address = address
        if let open = Self.trailingGroupStart(rest) {
            self.function = String(decoding: rest[rest.startIndex..<(open - 1)], as: UTF8.self)
            self.location = String(decoding: rest[(open + 1)..<(rest.endIndex - 1)], as: UTF8.self)
        } else {
            self.function = String(decoding: rest, as: UTF8.self)
            self.location = nil
        }
    }

    /// The object file for a `(in <object>)` location.
    public var object: String? {
        guard let location, location.hasPrefix("in ") else { return nil }
        return String(location.dropFirst(3))
    }

    /// The source file and line for a `(<dir/>file:line)` location.
    public var sourceLine: (file: String, line: Int)? {
        guard let location, !location.hasPrefix("in "), let colon = location.lastIndex(of: ":"),
            let line = Int(location[location.index(after: colon)...])
        else { return nil }
        return (String(location[..<colon]), line)
    }

    /// True when Valgrind could not name the function (`???`).
    public var isUnknown: Bool { function == "???" }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// The index of the `(` that opens a trailing ` (...)` group, or nil.
    private static func trailingGroupStart(_ rest: ArraySlice<UInt8>) -> Int? {
        guard let last = rest.last, last == UInt8(ascii: ")") else { return nil }
        var depth = 0
        var index = rest.endIndex - 1
        while index >= rest.startIndex {
            switch rest[index] {
            case UInt8(ascii: ")"): depth += 1
            case UInt8(ascii: "("):
                depth -= 1
                if depth == 0 {
                    let hasSpaceBefore = index - 1 > rest.startIndex && rest[index - 1] == UInt8(ascii: " ")
                    return hasSpaceBefore ? index : nil
                }
            default: break
            }
            index -= 1
        }
        return nil
    }
}

/// Checked arithmetic for byte counts read from a massif file, which may come from anyone: sums saturate at
/// `Int.max` and differences clamp, so that a hostile file gives odd figures instead of a trap.
enum HeapArithmetic {
    /// The sum of the children's bytes, saturating at `Int.max` (and at `Int.min` for negative counts).
    static func sum(_ children: [HeapNode]) -> Int {
        var total = 0
        for child in children { total = saturatingAdd(total, child.bytes) }
        return total
    }

    static func saturatingAdd(_ lhs: Int, _ rhs: Int) -> Int {
        let (result, overflow) = lhs.addingReportingOverflow(rhs)
        guard overflow else { return result }
        return rhs > 0 ? Int.max : Int.min
    }

    /// `lhs - rhs`, clamped to `Int.min...Int.max` instead of trapping.
    static func saturatingSubtract(_ lhs: Int, _ rhs: Int) -> Int {
        let (result, overflow) = lhs.subtractingReportingOverflow(rhs)
        guard overflow else { return result }
        return rhs < 0 ? Int.max : Int.min
    }

    /// `bytes` minus the children's, never negative and never trapping.
    static func exclusive(_ bytes: Int, children: [HeapNode]) -> Int {
        let (difference, overflow) = bytes.subtractingReportingOverflow(sum(children))
        if overflow { return bytes > 0 ? bytes : 0 }
        return max(0, difference)
    }
}
