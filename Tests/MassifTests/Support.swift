import Foundation
import TestSupport
import Testing

@testable import Massif

extension Fixtures {
    /// The bytes of the massif fixture `NAME.massif`.
    static func massif(_ name: String) throws -> [UInt8] {
        try bytes(name + ".massif")
    }

    /// The massif fixture `NAME.massif`, parsed.
    static func file(_ name: String) throws -> MassifFile {
        try MassifFile.parse(massif(name), fileName: name)
    }
}

/// A tiny deterministic generator, so that a failing fuzz input can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds a code frame from its text; tests only use well-formed ones.
func code(_ text: String) -> Frame {
    .code(CodeFrame(text: text)!)
}
