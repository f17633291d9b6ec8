import ArgumentParser
import Foundation
import Massif

/// `snapctl massif print|summary|diff|merge`: work on massif files from anywhere.
public struct MassifCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "massif",
        abstract: "Read, compare and merge Valgrind Massif files.",
        subcommands: [MassifPrintCommand.self, MassifSummaryCommand.self, MassifDiffCommand.self, MassifMergeCommand.self]
    )

    public init() {}

    /// Reads and parses one file; a missing file or a directory is a `MassifError` like a bad line, so every
    /// failure prints as `FILE[:LINE]: expected ..., got ...`.
    static func load(_ path: String) throws(MassifError) -> MassifFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MassifError(fileName: path, line: nil, expected: "a massif file", found: "no such file")
        }
        if isDirectory.boolValue {
            throw MassifError(fileName: path, line: nil, expected: "a massif file", found: "a directory")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MassifError(fileName: path, line: nil, expected: "a readable massif file", found: "an unreadable file")
        }
        return try MassifFile.parse([UInt8](data), fileName: path)
    }

    /// Runs `body`, writing its output to standard output; a `MassifError` goes to standard error with exit 1.
    static func emit(_ body: () throws -> String) throws {
        let output: String
        do {
            output = try body()
        } catch let error as MassifError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}
