import Foundation
import Synchronization

/// A scratch directory for one test, removed by ``cleanup()``.
///
/// Directly under `/tmp` with a short name, because a server's socket and vgdb's FIFOs live below it and a
/// socket path must fit in 107 bytes; the random suffix keeps tests that run in parallel apart.
public struct Scratch: Sendable {
    /// The directory.
    public let path: String

    /// Makes `/tmp/snapctl-NAME-XXXXXX`.
    public init(_ name: String) throws {
        var template = Array("/tmp/snapctl-\(name)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw TestFailure("could not make a scratch directory /tmp/snapctl-\(name)-*: errno \(errno)")
        }
        path = String(cString: made)
    }

    /// Writes `text` to `NAME` in the directory and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Writes `bytes` to `NAME` in the directory and returns its path.
    @discardableResult
    public func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// The conventional run directory of a session started in this scratch directory.
    public var run: String { path + "/run" }

    /// Removes the directory and everything in it.
    public func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

extension Scratch {
    /// A scratch directory for the whole test process, removed when the process exits: for what one test
    /// builds and many use (a compiled helper, a recorded run), which no single test can clean up after.
    public static func forProcess(_ name: String) throws -> Scratch {
        let scratch = try Scratch(name)
        ProcessScratch.paths.withLock { $0.append(scratch.path) }
        ProcessScratch.removeAtExit
        return scratch
    }
}

/// The directories ``Scratch/forProcess(_:)`` made, and the one exit handler that removes them.
enum ProcessScratch {
    static let paths = Mutex<[String]>([])
    static let removeAtExit: Void = {
        atexit {
            for path in ProcessScratch.paths.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
        }
    }()
}

/// A test's own failure, with what went wrong in words.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A flag one task sets and another polls.
public final class TestFlag: Sendable {
    private let value = Mutex(false)
    public init() {}
    public func set() { value.withLock { $0 = true } }
    public var isSet: Bool { value.withLock { $0 } }
}

/// Where the repository is, found from this file (`Tests/TestSupport/Scratch.swift`).
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
