import ArgumentParser
import Foundation
import Massif

/// `snapctl massif print|summary|diff|merge`: work on massif files from anywhere.
public struct MassifCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "massif",
        abstract: "Read, compare and merge Valgrind Massif files.",
        subcommands: [
            MassifPrintCommand.self, MassifSummaryCommand.self, MassifDiffCommand.self, MassifMergeCommand.self,
            MassifFoldCommand.self,
        ]
    )

    public init() {}

    /// Reads and parses one file: a massif file, or an xtree memory dump in Massif's or callgrind's format (as
    /// one detailed snapshot per event). A missing file or a directory is a `MassifError` like a bad line, so
    /// every failure prints as `FILE[:LINE]: expected ..., got ...`.
    static func load(_ path: String) throws(MassifError) -> MassifFile {
        if try isCallgrindXTree(path) { return try loadCallgrindXTree(path).massifFile() }
        var parser = MassifParser(fileName: path)
        var header: MassifHeader?
        var snapshots: [Snapshot] = []
        func take(_ event: MassifParser.Event) {
            switch event {
            case .header(let value): header = value
            case .snapshot(let snapshot): snapshots.append(snapshot)
            }
        }
        try stream(path, into: &parser, take)
        while let event = try parser.next() { take(event) }
        guard let header else {
            throw MassifError(fileName: path, line: nil, expected: "a massif header", found: "end of file")
        }
        return MassifFile(header: header, snapshots: snapshots)
    }

    /// An xtree dump in callgrind format, read in chunks: memory holds the call tree, not the text.
    static func loadCallgrindXTree(_ path: String) throws(MassifError) -> XTreeDump {
        var parser = XTreeCallgrindParser(fileName: path)
        try readChunks(path) { (chunk) throws(MassifError) in try parser.consume(chunk) }
        return try parser.finish()
    }

    /// True when the file starts like a callgrind-format file (`# callgrind format`, which xtree dumps write
    /// first; massif files start with `desc:`).
    static func isCallgrindXTree(_ path: String) throws(MassifError) -> Bool {
        let descriptor = try openForReading(path)
        defer { close(descriptor) }
        var start = [UInt8](repeating: 0, count: 18)
        let count = start.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        return count == 18 && start == Array("# callgrind format".utf8)
    }

    /// Feeds the file to `parser`, passing each event to `handle` as soon as it is complete; the parser is left
    /// at end of input with no event pending. Memory stays at one chunk plus what the caller keeps.
    static func stream(
        _ path: String,
        into parser: inout MassifParser,
        _ handle: (MassifParser.Event) -> Void
    ) throws(MassifError) {
        try readChunks(path) { (chunk) throws(MassifError) in try parser.consume(chunk) { handle($0) } }
        parser.endInput()
    }

    static func openForReading(_ path: String) throws(MassifError) -> Int32 {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MassifError(fileName: path, line: nil, expected: "a massif file", found: "no such file")
        }
        if isDirectory.boolValue {
            throw MassifError(fileName: path, line: nil, expected: "a massif file", found: "a directory")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw MassifError(
                fileName: path,
                line: nil,
                expected: "a readable massif file",
                found: "an unreadable file (\(String(cString: strerror(errno))))"
            )
        }
        return descriptor
    }

    /// The read(2) size of `readChunks`. 256 KiB stays in the CPU's cache between the kernel's copy and the
    /// parser's reading, and a fresh buffer of that size costs few page faults.
    static let chunkSize = 1 << 18

    /// The read buffer's alignment: a page. The kernel copies into a buffer 8 or 16 bytes past a 32-byte
    /// boundary (where malloc puts a large block) four times slower: reading a 19 MB file from the page cache
    /// took 12.5 ms there and 3 ms page-aligned.
    static let chunkAlignment = 4096

    /// Calls `body` with each chunk of the file, read with read(2) into one reused buffer (no `Data` and no
    /// array per chunk); the chunk is only valid during the call.
    static func readChunks(
        _ path: String,
        _ body: (UnsafeRawBufferPointer) throws(MassifError) -> Void
    ) throws(MassifError) {
        let descriptor = try openForReading(path)
        defer { close(descriptor) }
        try readChunks(descriptor: descriptor, path: path, body)
    }

    /// `readChunks(_:_:)` on an open file: from `start` up to `end` (or the end of the file) with pread(2), or,
    /// with no `start`, from where the descriptor is with read(2), which pipes allow too. `proceed` is asked
    /// before each read: a reader whose work is no longer wanted stops there.
    static func readChunks(
        descriptor: Int32,
        path: String,
        from start: Int? = nil,
        upTo end: Int? = nil,
        while proceed: () -> Bool = { true },
        _ body: (UnsafeRawBufferPointer) throws(MassifError) -> Void
    ) throws(MassifError) {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: chunkAlignment)
        defer { chunk.deallocate() }
        var offset = start ?? 0
        while proceed() {
            let wanted = end.map { min(chunkSize, $0 - offset) } ?? chunkSize
            if wanted <= 0 { break }
            let count =
                start == nil
                ? read(descriptor, chunk.baseAddress, wanted)
                : pread(descriptor, chunk.baseAddress, wanted, off_t(offset))
            if count < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                throw MassifError(fileName: path, line: nil, expected: "a readable massif file", found: reason)
            }
            if count == 0 { break }
            offset += count
            try body(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        }
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
        writeStandardOutput(output)
    }

    /// Writes with write(2) straight from the string's UTF-8 storage (a print of a large file is megabytes;
    /// `FileHandle.write(Data(...))` copied it twice).
    static func writeStandardOutput(_ text: String) {
        var text = text
        text.withUTF8 { writeStandardOutput(UnsafeRawBufferPointer($0)) }
    }

    /// Writes bytes to standard output with write(2), the whole buffer in as few calls as the kernel allows; a
    /// closed pipe (`| head`) ends the output quietly.
    static func writeStandardOutput(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = write(STDOUT_FILENO, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
