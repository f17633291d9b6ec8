#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns frame descriptions (bytes) into frame numbers without building a `String` per tree line.
///
/// A mariadbd file with `--detailed-freq=1` has about 300,000 tree lines but under 3,000 distinct descriptions:
/// hashing the bytes and comparing them with the first occurrence costs far less than decoding a string and
/// hashing it for every line, and every node of every snapshot shares the one `Frame` of its description. The
/// number of a description is its position in `frames`, in order of first appearance: a packed tree stores it
/// instead of the frame, and a reader on another thread keeps its own copy of the table from the frames each
/// snapshot brings (`PackedSnapshot.newFrames`).
struct FrameInterner: Sendable {
    /// What a lookup finds: the frame's number, and whether it is the below-threshold aggregate (which must be
    /// a leaf, checked on every line that names it).
    struct Entry {
        var number: Int32
        var isBelowThreshold: Bool
    }

    /// Where an entry's bytes are in `arena`, and what `Entry` says about it: all a lookup needs, in one place.
    private struct Span {
        var start: Int
        var count: Int
        var isBelowThreshold: Bool
    }

    /// Open addressing over entry numbers, -1 for a free slot; at most half full.
    private var slots: [Int32] = Array(repeating: -1, count: 1024)
    private var hashes: [UInt64] = []
    private var spans: [Span] = []
    private var arena: [UInt8] = []
    private(set) var frames: [Frame] = []

    /// More distinct descriptions than a frame number can hold are refused (a file of tens of gigabytes).
    static let capacity = Int(Int32.max)

    /// The entry already made for these bytes, if any.
    func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Entry? {
        let hash = Self.hash(bytes)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let entry = Int(slots[slot])
                if entry < 0 { return nil }
                if hashes[entry] == hash && equal(entry, bytes) {
                    return Entry(
                        number: Int32(truncatingIfNeeded: entry),
                        isBelowThreshold: spans[entry].isBelowThreshold
                    )
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// The entry of frame `number` when its bytes are these (`number` must be one this interner gave).
    @inline(__always)
    func entry(_ number: Int32, ifEqualTo bytes: UnsafeBufferPointer<UInt8>) -> Entry? {
        let entry = Int(number)
        guard equal(entry, bytes) else { return nil }
        return Entry(number: number, isBelowThreshold: spans[entry].isBelowThreshold)
    }

    /// Remembers `frame` for these bytes (which `find` did not know) and returns its number; nil when the table
    /// is full.
    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, _ frame: Frame) -> Int32? {
        guard frames.count < Self.capacity else { return nil }
        if (frames.count + 1) * 2 > slots.count { grow() }
        let hash = Self.hash(bytes)
        let entry = Int32(frames.count)
        hashes.append(hash)
        var isBelowThreshold = false
        if case .belowThreshold = frame { isBelowThreshold = true }
        spans.append(Span(start: arena.count, count: bytes.count, isBelowThreshold: isBelowThreshold))
        arena.append(contentsOf: bytes)
        frames.append(frame)
        place(entry, hash: hash)
        return entry
    }

    private mutating func place(_ entry: Int32, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = entry
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        for entry in hashes.indices { place(Int32(entry), hash: hashes[entry]) }
    }

    @inline(__always)
    private func equal(_ entry: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = spans[entry]
        guard span.count == bytes.count else { return false }
        if bytes.isEmpty { return true }
        return arena.withUnsafeBufferPointer { stored in
            memcmp(stored.baseAddress.unsafelyUnwrapped + span.start, bytes.baseAddress.unsafelyUnwrapped, bytes.count)
                == 0
        }
    }

    /// A fast non-cryptographic hash over 8-byte words (the input is not adversarial enough to matter: a bad
    /// spread costs time, never correctness, since entries are compared byte for byte).
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(bytes.count)
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            let word = UInt64(
                littleEndian: UnsafeRawPointer(bytes.baseAddress.unsafelyUnwrapped + index).loadUnaligned(
                    as: UInt64.self
                )
            )
            hash = (hash ^ word) &* 0x100_0000_01B3
            hash ^= hash >> 29
            index += 8
        }
        while index < count {
            hash = (hash ^ UInt64(bytes[index])) &* 0x100_0000_01B3
            index += 1
        }
        hash ^= hash >> 32
        return hash &* 0x9E37_79B9_7F4A_7C15
    }
}
