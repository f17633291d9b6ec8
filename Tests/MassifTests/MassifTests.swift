import Foundation
import Testing

@testable import Massif

func fixture(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "massif"))
    return Array(try Data(contentsOf: url))
}

@Test func smoke() throws {
    for name in ["mariadbd-all-snapshots", "mariadbd-detailed-snapshot", "mariadbd-final", "mariadbd-snapshot"] {
        let bytes = try fixture(name)
        let file = try MassifFile.parse(bytes, fileName: name)
        #expect(file.serialized() == bytes)
        print(name, file.snapshots.count)
    }
}
