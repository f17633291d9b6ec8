import Testing

@testable import GDBRemote

@Suite("Requests and replies")
struct RequestReplyTests {
    /// Packets quoted in the reference traces, checksums included.
    @Test(arguments: [
        (Request.querySupported, "$qSupported#37"),
        (.startNoAckMode, "$QStartNoAckMode#b0"),
        (.passSignals([.alrm, .chld, .pipe, .usr1, .usr2]), "$QPassSignals:0e;14;0d;1e;1f#9a"),
        (.haltReason, "$?#3f"),
        (.continue, "$c#63"),
        (.detach, "$D#44"),
        (.continueWithSignal(.segv), "$C0b#d5"),
        (.monitor("v.kill"), "$qRcmd,762e6b696c6c#60"),
    ])
    func encoding(_ request: Request, _ expected: String) {
        #expect(String(decoding: request.encoded, as: UTF8.self) == expected)
    }

    @Test func monitorPayloadIsLowercaseHex() {
        let packet = String(decoding: Request.monitor("detailed_snapshot /tmp/ms.out").encoded, as: UTF8.self)
        #expect(packet.hasPrefix("$qRcmd,64657461696c65645f736e617073686f74202f746d702f6d732e6f7574#"))
        let hexPart = packet.dropFirst("$qRcmd,".count)
        #expect(hexPart == hexPart.lowercased())
    }

    @Test func everyByteValueRoundTripsThroughHex() {
        let all = (0...255).map { UInt8($0) }
        let encoded = Hex.encode(all)
        #expect(encoded.allSatisfy { !(UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) })
        #expect(Hex.decode(encoded) == all)
        #expect(Hex.decode(Array("4B".utf8)) == [0x4b])
        #expect(Hex.decode(Array("4".utf8)) == nil)
        #expect(Hex.decode(Array("zz".utf8)) == nil)
    }

    @Test func encodeThenFrameThenParseRoundTrips() throws {
        for command in [
            "snapshot /tmp/a.out", "help", "v.info n_errs_found token-42", String(repeating: "x", count: 3000),
        ] {
            var framer = PacketFramer()
            framer.append(Request.monitor(command).encoded)
            guard case .packet(let payload) = try framer.next() else {
                Issue.record("no packet")
                continue
            }
            #expect(payload.starts(with: Array("qRcmd,".utf8)))
            #expect(Hex.decode(payload.dropFirst(6)) == Array(command.utf8))
        }
    }

    @Test(arguments: [
        ("OK", Reply.ok),
        ("", .empty),
        ("E01", .error(code: 1)),
        ("E.bad thing", .errorText("bad thing")),
        ("O68690a", .output(Array("hi\n".utf8))),
        ("W00", .exited(status: 0)),
        ("W01;process:1f", .exited(status: 1)),
        ("X0f", .terminated(signal: .term)),
        ("S05", .stopped(StopReply(signal: .trap))),
        ("T1e06:00;thread:7993;", .stopped(StopReply(signal: .usr1, thread: "7993", fields: ["06": "00"]))),
        ("PacketSize=3fff;QStartNoAckMode+", .other(Array("PacketSize=3fff;QStartNoAckMode+".utf8))),
    ])
    func parsing(_ payload: String, _ expected: Reply) {
        #expect(Reply.parse(Array(payload.utf8)) == expected)
    }

    @Test func supportedFeaturesFromValgrind319() {
        let features = SupportedFeatures.parse(
            Array(
                "PacketSize=3fff;QStartNoAckMode+;QPassSignals+;QCatchSyscalls+;qXfer:auxv:read+;qXfer:features:read+"
                    .utf8
            )
        )
        #expect(features.packetSize == 16383)
        #expect(features.enabled.contains("QStartNoAckMode"))
        #expect(features.enabled.contains("QPassSignals"))
        #expect(!features.enabled.contains("binary-upload"))
    }
}
