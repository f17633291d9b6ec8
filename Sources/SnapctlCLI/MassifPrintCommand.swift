import ArgumentParser
import Bundle
import Foundation
import Massif

/// `snapctl massif print FILE [--threshold P]`: chart, snapshot table and trees, like ms_print but compact.
struct MassifPrintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print",
        abstract: "Print a massif file: a chart of the totals, a table of snapshots and the detailed trees."
    )

    @Argument(help: "The massif file.")
    var file: String

    @Option(help: "Sum tree nodes below this percentage of the snapshot's total into one line.")
    var threshold: Double = 1.0

    @Option(help: "Print the tree of this snapshot only (repeatable).")
    var snapshot: [Int] = []

    func validate() throws {
        guard threshold >= 0 && threshold <= 100 else {
            throw ValidationError("--threshold must be between 0 and 100, got \(threshold)")
        }
    }

    var options: MassifRenderer.Options {
        MassifRenderer.Options(threshold: threshold, treeSnapshots: snapshot.isEmpty ? nil : Set(snapshot))
    }

    /// The text `run()` prints, as a string (for tests).
    func output() throws(MassifError) -> String {
        var bytes: [UInt8] = []
        try write { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Produces the print and passes it to `write` in a few large pieces.
    func write(_ write: (UnsafeRawBufferPointer) -> Void) throws(MassifError) {
        if try MassifCommand.isCallgrindXTree(file) {
            var text = MassifRenderer.render(try MassifCommand.loadCallgrindXTree(file).massifFile(), options: options)
            text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
            return
        }
        try MassifPrintParts.print(file, options: options).printer?.finish(write)
    }

    /// Reads, renders and writes on threads of their own (pread(2) and write(2) block), not on the cooperative
    /// pool.
    func run() async throws {
        let command = self
        let failure = await OffPool.run { () -> MassifError? in
            do throws(MassifError) {
                try command.write { MassifCommand.writeStandardOutput($0) }
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            FileHandle.standardError.write(Data((failure.description + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
