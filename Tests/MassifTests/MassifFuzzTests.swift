import TestSupport
import Testing

@testable import Massif

/// A property test over the parser: random mutations of real massif files must never crash it, every error must
/// name the file and a line inside the input, and every input it accepts must be written back byte for byte.
@Suite struct MassifFuzzTests {
    static let inputCount = 100_000

    @Test func randomMutationsOfRealFilesNeverCrashAndRoundTripWhenAccepted() throws {
        let seeds: [[UInt8]] = [
            try Fixtures.massif("mariadbd-snapshot"),
            Array(MassifParserTests.minimal.utf8),
            Array(Self.smallDetailed.utf8),
        ]
        let large = try Fixtures.massif("mariadbd-detailed-snapshot")
        var random = SplitMix64(state: 0x5EED)
        var accepted = 0
        var rejected = 0
        for round in 0..<Self.inputCount {
            let seed = round % 64 == 0 ? large : seeds[round % seeds.count]
            let input = Self.mutate(seed, using: &random)
            do {
                let file = try MassifFile.parse(input, fileName: "fuzz")
                accepted += 1
                let roundTrips = file.serialized() == input
                #expect(
                    roundTrips,
                    "round \(round) accepted but did not round-trip: \(String(decoding: input, as: UTF8.self))"
                )
            } catch {
                rejected += 1
                let lineCount = input.count { $0 == 0x0A } + 1
                #expect(error.fileName == "fuzz")
                #expect((error.line ?? 1) >= 1 && (error.line ?? 1) <= lineCount, "round \(round): \(error)")
            }
        }
        #expect(accepted + rejected == Self.inputCount)
        #expect(accepted > 100, "mutations should sometimes keep the file valid")
        #expect(rejected > Self.inputCount / 2)
    }

    /// A detailed snapshot trimmed from a real file, small enough to mutate many times.
    static let smallDetailed = """
        desc: --massif-out-file=/var/tmp/snapctl-demo/massif.out.%p   
        cmd: /usr/sbin/mariadbd --no-defaults
        time_unit: i
        #-----------
        snapshot=0
        #-----------
        time=90772283
        mem_heap_B=36315504
        mem_heap_extra_B=87611
        mem_stacks_B=0
        heap_tree=peak
        n2: 36315504 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
         n2: 35283848 0x10000B0: my_malloc (in /usr/sbin/mariadbd)
          n1: 30615416 0xFF87E7: my_multi_malloc_large (in /usr/sbin/mariadbd)
           n0: 30615416 0x845092: mysqld_main(int, char**) (in /usr/sbin/mariadbd)
          n0: 4668432 in 73 places, all below massif's threshold (1.00%)
         n0: 1031656 in 1 place, below massif's threshold (1.00%)

        """

    static func mutate(_ seed: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        let interesting: [UInt8] = Array("0123456789n: \n#=-x.,()%".utf8) + [0, 0xFF, 0x0D, 0x09]
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            guard !bytes.isEmpty else {
                bytes.append(interesting.randomElement(using: &random) ?? 0)
                continue
            }
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<9, using: &random) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
            case 1: bytes[at] = interesting.randomElement(using: &random) ?? 0
            case 2: bytes.insert(interesting.randomElement(using: &random) ?? 0, at: at)
            case 3: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...40, using: &random)))
            case 4: bytes.removeSubrange(at...)
            case 5:
                // Change a digit to another digit: keeps most lines well-formed.
                if let digit = bytes[at...].firstIndex(where: { $0 >= 0x30 && $0 <= 0x39 }) {
                    bytes[digit] = UInt8.random(in: 0x30...0x39, using: &random)
                }
            case 6:
                // Duplicate or drop a whole line.
                let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                var list = Array(lines)
                let line = Int.random(in: 0..<list.count, using: &random)
                if Bool.random(using: &random) { list.insert(list[line], at: line) } else { list.remove(at: line) }
                bytes = Array(list.joined(separator: [0x0A]))
            case 7:
                // Swap two lines.
                var list = Array(bytes.split(separator: 0x0A, omittingEmptySubsequences: false))
                let first = Int.random(in: 0..<list.count, using: &random)
                let second = Int.random(in: 0..<list.count, using: &random)
                list.swapAt(first, second)
                bytes = Array(list.joined(separator: [0x0A]))
            default:
                // Replace a number with a random one (possibly huge).
                if let digit = bytes[at...].firstIndex(where: { $0 >= 0x30 && $0 <= 0x39 }) {
                    var end = digit
                    while end < bytes.count, bytes[end] >= 0x30, bytes[end] <= 0x39 { end += 1 }
                    let value = Bool.random(using: &random) ? UInt64.random(in: 0...20, using: &random) : random.next()
                    bytes.replaceSubrange(digit..<end, with: Array(String(value).utf8))
                }
            }
        }
        return bytes
    }
}
