import ArgumentParser
import Foundation
import Massif

/// `snapctl massif merge A B ... -o OUT`: one file, snapshots renumbered in the order given.
struct MassifMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge massif files into one that ms_print reads; snapshots renumbered in the order given."
    )

    @Argument(help: "The massif files, in order.")
    var files: [String]

    @Option(name: .shortAndLong, help: "The merged file to write.")
    var output: String

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one massif file to merge") }
    }

    func merged() throws(MassifError) -> [UInt8] {
        var parsed: [MassifFile] = []
        for file in files {
            parsed.append(try MassifCommand.load(file))
        }
        return try MassifFile.merge(parsed, names: files).serialized()
    }

    func run() throws {
        try MassifCommand.emit {
            let bytes = try merged()
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: output))
            } catch {
                throw MassifError(fileName: output, line: nil, expected: "a writable path", found: "\(error)")
            }
            return ""
        }
    }
}
