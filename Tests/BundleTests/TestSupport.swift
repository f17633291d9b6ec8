import Foundation
import Testing

@testable import Bundle

#if canImport(Glibc)
import Glibc
#endif

/// Running programs from tests: the built snapctl, and system tools to check interoperability.
enum Tools {
    /// The snapctl executable next to the test bundle.
    static var snapctl: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("snapctl")
            .path
    }

    /// What a program did.
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to its end with stdout and stderr in files (no pipe to fill up).
    static func capture(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        input: String? = nil
    ) throws -> Output {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("snapctl-out-\(UUID())").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        _ = FileManager.default.createFile(atPath: scratch + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch + "/stderr", contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let input {
            _ = FileManager.default.createFile(atPath: scratch + "/stdin", contents: Data(input.utf8))
            process.standardInput = FileHandle(forReadingAtPath: scratch + "/stdin")
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/stderr"))
        try process.run()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: scratch + "/stdout", encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: scratch + "/stderr", encoding: .utf8)) ?? ""
        )
    }

    /// The exit status of a program.
    static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        try capture(executable, arguments).status
    }

    /// `snapctl ARGS`.
    static func snapctl(
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        input: String? = nil
    ) throws -> Output {
        try capture(snapctl, arguments, environment: environment, directory: directory, input: input)
    }
}

/// A scratch directory for one test, short enough for a server socket below it, removed by `cleanup`.
struct Scratch {
    let path: String

    init(_ name: String) throws {
        path = "/tmp/snapctl-bt-\(name)-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Byte search for tests.
extension Array where Element == UInt8 {
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        let first = needle[0]
        var index = 0
        while index <= count - needle.count {
            if self[index] == first && Array(self[index..<(index + needle.count)]) == needle { return true }
            index += 1
        }
        return false
    }
}

/// Processes whose command line mentions `text` (the test's scratch directory), this one left out.
func processesMentioning(_ text: String) -> [String] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var found: [String] = []
    for entry in entries where Int32(entry) != nil && Int32(entry) != getpid() {
        guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
        let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        if line.contains(text) { found.append("\(entry): \(line)") }
    }
    return found
}
