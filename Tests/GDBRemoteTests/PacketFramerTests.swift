import Testing

@testable import GDBRemote

/// Frames `payload` the way a peer would (`$payload#cs`), with a correct lowercase checksum.
func wire(_ payload: String) -> String {
    let cs = Checksum.of(Array(payload.utf8))
    return "$" + payload + "#" + String(decoding: Hex.byte(cs), as: UTF8.self)
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

enum Feeding: CaseIterable, Sendable {
    case allAtOnce, byteByByte, onePacketPerChunk
}

/// Runs the framer over `input`, fed in the given way, collecting frames and errors in order.
func frames(_ input: [String], feeding: Feeding) -> [String] {
    var framer = PacketFramer()
    var out: [String] = []
    func drain() {
        while true {
            do {
                guard let frame = try framer.next() else { return }
                out.append(describe(frame))
            } catch {
                out.append("error: \(error.reason)")
            }
        }
    }
    switch feeding {
    case .allAtOnce:
        framer.append(bytes(input.joined()))
        drain()
    case .byteByByte:
        for byte in bytes(input.joined()) {
            framer.append([byte])
            drain()
        }
    case .onePacketPerChunk:
        for chunk in input {
            framer.append(bytes(chunk))
            drain()
        }
    }
    return out
}

func describe(_ frame: Frame) -> String {
    switch frame {
    case .ack: return "+"
    case .nak: return "-"
    case .packet(let p): return "packet " + String(decoding: p, as: UTF8.self)
    case .notification(let p): return "notification " + String(decoding: p, as: UTF8.self)
    case .badChecksum(let p, let expected, let received):
        return "bad " + String(decoding: p, as: UTF8.self) + " \(expected)/\(received)"
    }
}

struct FramerCase: CustomStringConvertible, Sendable {
    var name: String
    var input: [String]
    var expected: [String]
    var description: String { name }
}

@Suite("PacketFramer")
struct PacketFramerTests {
    static let cases: [FramerCase] = [
        FramerCase(name: "ack then OK", input: ["+", "$OK#9a"], expected: ["+", "packet OK"]),
        FramerCase(name: "nak", input: ["-"], expected: ["-"]),
        FramerCase(name: "empty packet", input: ["$#00"], expected: ["packet "]),
        FramerCase(name: "exit status", input: ["$W00#b7"], expected: ["packet W00"]),
        FramerCase(
            name: "run of zeros in a register",
            input: [wire("T0506:0*,;thread:7993;")],
            expected: ["packet T0506:0000000000000000;thread:7993;"]
        ),
        FramerCase(name: "split run 0*\"00", input: [wire("0*\"00")], expected: ["packet 00000000"]),
        FramerCase(
            name: "reference O packet",
            input: [wire("O62756*!572206f6* 0a")],
            expected: ["packet O627566666572206f66660a"]
        ),
        FramerCase(
            name: "+ as a count inside a packet",
            input: [wire("a*+")],
            expected: ["packet " + String(repeating: "a", count: 15)]
        ),
        FramerCase(
            name: "- as a count inside a packet",
            input: [wire("b*-")],
            expected: ["packet " + String(repeating: "b", count: 17)]
        ),
        FramerCase(
            name: "garbage between packets",
            input: ["relaying data\n", "$OK#9a", "\u{03}zz", "$W00#b7"],
            expected: ["packet OK", "packet W00"]
        ),
        FramerCase(
            name: "bad checksum is a frame",
            input: ["$OK#00", "$OK#9a"],
            expected: ["bad OK 154/0", "packet OK"]
        ),
        FramerCase(name: "uppercase checksum accepted", input: ["$OK#9A"], expected: ["packet OK"]),
        FramerCase(
            name: "checksum not hex",
            input: ["$OK#zz", "$OK#9a"],
            expected: ["error: checksum is not two hex digits", "packet OK"]
        ),
        FramerCase(
            name: "run-length with nothing to repeat",
            input: [wire("*a"), "$OK#9a"],
            expected: ["error: run-length marker '*' with nothing to repeat", "packet OK"]
        ),
        FramerCase(
            name: "packet cut by a new one",
            input: ["$O6", "$OK#9a"],
            expected: ["error: packet interrupted by a new '$'", "packet OK"]
        ),
        FramerCase(
            name: "notification",
            input: ["%" + wire("Stop:T05").dropFirst()],
            expected: ["notification Stop:T05"]
        ),
        FramerCase(name: "incomplete stays pending", input: ["$OK#9"], expected: []),
    ]

    @Test(arguments: cases, Feeding.allCases)
    func framing(_ c: FramerCase, feeding: Feeding) {
        #expect(frames(c.input, feeding: feeding) == c.expected)
    }

    @Test func incompletePacketIsKeptUntilComplete() throws {
        var framer = PacketFramer()
        framer.append(bytes("$O6869"))
        #expect(try framer.next() == nil)
        framer.append(bytes("#"))
        #expect(try framer.next() == nil)
        framer.append(bytes("2"))
        #expect(try framer.next() == nil)
        framer.append(bytes("c"))
        #expect(try framer.next() == .packet(bytes("O6869")))
        #expect(try framer.next() == nil)
    }

    @Test func oversizedPacketIsRefused() {
        var framer = PacketFramer(maximumPacketSize: 16)
        framer.append(bytes("$" + String(repeating: "a", count: 40)))
        #expect(throws: FramingError.self) { try framer.next() }
    }

    @Test func errorNamesTheOffset() {
        var framer = PacketFramer()
        framer.append(bytes("+++$OK#zz"))
        for _ in 0..<3 { _ = try? framer.next() }
        do {
            _ = try framer.next()
            Issue.record("expected a framing error")
        } catch {
            #expect(error.offset == 3)
            #expect(error.description.contains("at byte 3"))
        }
    }

    @Test func largeStreamByteByByteIsLinear() throws {
        // 2,000 O packets of 200 bytes each, fed one byte at a time: all arrive, in order.
        let payload = "O" + String(repeating: "41", count: 100)
        let one = wire(payload)
        var framer = PacketFramer()
        var count = 0
        for _ in 0..<2000 {
            for byte in one.utf8 {
                framer.append(CollectionOfOne(byte))
                while let frame = try framer.next() {
                    #expect(frame == .packet(bytes(payload)))
                    count += 1
                }
            }
        }
        #expect(count == 2000)
    }
}
