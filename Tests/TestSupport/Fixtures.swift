import Foundation
import Testing

/// Real files the tests read, shipped in this target's bundle: massif files of a real mariadbd and xtree
/// memory dumps (`xtmemory`) of a small program, in Massif's and callgrind's formats, taken before and after
/// it allocated more.
public enum Fixtures {
    /// The real mariadbd massif files (`NAME.massif`).
    public static let massifNames = [
        "mariadbd-all-snapshots", "mariadbd-detailed-snapshot", "mariadbd-final", "mariadbd-snapshot",
    ]

    /// The path of fixture `name` (with its extension), or a failure naming it.
    public static func path(_ name: String) throws -> String {
        try #require(
            Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"),
            "fixture \(name) is missing from the test bundle"
        ).path
    }

    /// The bytes of fixture `name` (with its extension).
    public static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    /// The text of fixture `name` (with its extension).
    public static func text(_ name: String) throws -> String {
        String(decoding: try bytes(name), as: UTF8.self)
    }
}
