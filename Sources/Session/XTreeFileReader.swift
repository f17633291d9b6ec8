import Foundation
import Massif

/// Reads an xtree memory dump in Massif's format from disk in chunks, keeping only the events asked for.
///
/// A dump holds six trees and grows with every distinct stack the server ever allocated from (tens of MB
/// after a modest workload); the lenses need two of them. The file is read with read(2) into one reused
/// buffer and each tree is dropped as soon as it is parsed unless its event is kept, so memory holds one
/// chunk, the tree being parsed and the kept trees, never the text.
enum XTreeFileReader {
    /// The size of the reused read buffer.
    static let chunkSize = 1 << 22

    /// The dump at `path` with the trees of `keeping`; `name` is used in errors.
    static func read(path: String, name: String, keeping: Set<XTreeEvent>) throws(MassifError) -> XTreeDump {
        var parser = MassifParser(fileName: name)
        var header: MassifHeader?
        var kept: [Snapshot] = []
        var notXTree: String?
        func take(_ event: MassifParser.Event) {
            switch event {
            case .header(let value): header = value
            case .snapshot(let snapshot):
                guard let event = snapshot.tree?.top.xtreeEvent else {
                    notXTree = notXTree ?? "snapshot \(snapshot.index) is not an xtree event tree"
                    return
                }
                if keeping.contains(event) { kept.append(snapshot) }
            }
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw MassifError(
                fileName: name,
                line: nil,
                expected: "an xtree memory dump",
                found: "an unreadable file (\(String(cString: strerror(errno))))"
            )
        }
        defer { close(descriptor) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = Foundation.read(descriptor, chunk.baseAddress, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw MassifError(
                    fileName: name,
                    line: nil,
                    expected: "a readable file",
                    found: String(cString: strerror(errno))
                )
            }
            if count == 0 { break }
            try parser.consume(UnsafeRawBufferPointer(rebasing: chunk[0..<count])) { take($0) }
        }
        parser.endInput()
        while let event = try parser.next() { take(event) }
        guard let header else {
            throw MassifError(fileName: name, line: nil, expected: "a massif header", found: "end of file")
        }
        if let notXTree {
            throw MassifError(fileName: name, line: nil, expected: "an xtree memory dump", found: notXTree)
        }
        guard let dump = XTreeDump(massif: MassifFile(header: header, snapshots: kept)) else {
            throw MassifError(
                fileName: name,
                line: nil,
                expected: "the trees " + keeping.map(\.name).sorted().joined(separator: ", "),
                found: "a dump without them"
            )
        }
        return dump
    }
}
