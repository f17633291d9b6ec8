import Foundation
import Massif

/// `snapctl massif print` of a large massif file on several threads: the file is cut at snapshot boundaries
/// into parts, each part is read (pread), parsed and rendered on a thread of its own, and the prints of the
/// parts are joined in file order.
///
/// Parts rather than a parser thread feeding a renderer thread: parsing costs about three times what
/// rendering does, so such a pipeline takes nearly as long as one thread, while two parts each parsed and
/// rendered take about half.
///
/// The print is the one a single thread makes, whatever the file holds (it may come from anyone):
/// - a cut is made only at a `#-----------` line followed by a `snapshot=` line, the first after an even share
///   of the file;
/// - the part before a cut must end between two snapshots (`MassifParser.isBetweenSnapshots`), and every part
///   must read without error; otherwise (a corrupt file, a cut that is not where a snapshot starts) the first
///   part's parser reads on through the rest of the file, as it would alone, and the other parts are dropped.
///   An error is thus always found by a parser that has read every line before it: its line, and the lines
///   its message names, are counted from the start of the file.
///
/// Each part holds its own text and one tree at a time, so memory is what one thread needs. Small files, and
/// what pread cannot read (a pipe), are read on the calling thread alone.
enum MassifPrintParts {
    /// A part smaller than this is not worth a thread of its own.
    static let minimumPartSize = 4 << 20
    /// How far past the even share of the file a cut is looked for.
    static let searchWindow = 1 << 20
    /// The most room reserved up front for a part's text (`MassifPrinter.reserveCapacity`): the text is much
    /// shorter than the file (12% of it with the default threshold, 59% with 0), and only what is written is
    /// ever touched, but a file of many gigabytes must not ask for as much address space.
    static let maximumRoom = 1 << 28

    /// The print of a file, and how many parts of it were read on threads of their own and used (1 when one
    /// thread read it all, or when the part before the first cut did not end between snapshots).
    struct Outcome {
        var printer: MassifPrinter?
        var parts: Int
    }

    /// Prints `path` in up to `parts` parts of at least `minimumPartSize` bytes (fewer when the file is small
    /// or has no snapshot boundary near where a cut would go).
    static func print(
        _ path: String,
        options: MassifRenderer.Options,
        parts requested: Int = ProcessInfo.processInfo.activeProcessorCount,
        minimumPartSize: Int = minimumPartSize
    ) throws(MassifError) -> Outcome {
        let descriptor = try MassifCommand.openForReading(path)
        defer { close(descriptor) }
        var status = stat()
        let isRegular = fstat(descriptor, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
        let size = isRegular ? max(Int(status.st_size), 0) : 0
        let wanted = min(requested, minimumPartSize > 0 ? size / minimumPartSize : requested)
        if wanted >= 2, let header = header(descriptor, path: path) {
            let cuts = cuts(descriptor, size: size, parts: wanted)
            if !cuts.isEmpty {
                return try parted(descriptor, path: path, size: size, cuts: cuts, header: header, options: options)
            }
        }
        var part = Part(start: 0, end: nil, parser: MassifParser(fileName: path))
        run(&part, descriptor: descriptor, path: path, header: nil, options: options, room: size, sequential: true)
        if let error = part.error { throw error }
        return Outcome(printer: part.printer, parts: 1)
    }

    /// What one part has read.
    struct Part: Sendable {
        var start: Int
        /// Where the next part starts; nil for the last part.
        var end: Int?
        var parser: MassifParser
        var printer: MassifPrinter?
        var error: MassifError?
    }

    /// Reads `part` into its parser and printer, with room for `room` bytes of text (at most `maximumRoom`).
    /// The last part (`end` nil) also ends the input.
    private static func run(
        _ part: inout Part,
        descriptor: Int32,
        path: String,
        header: MassifHeader?,
        options: MassifRenderer.Options,
        room: Int,
        sequential: Bool = false,
        while proceed: () -> Bool = { true }
    ) {
        var parser = part.parser
        let room = min(max(room, 0), maximumRoom)
        var printer = part.printer ?? header.map { MassifPrinter(header: $0, options: options) }
        printer?.reserveCapacity(room)
        func take(_ event: MassifParser.PackedEvent) {
            switch event {
            case .header(let header):
                printer = MassifPrinter(header: header, options: options)
                printer?.reserveCapacity(room)
            case .snapshot(let snapshot): printer?.add(snapshot)
            }
        }
        do throws(MassifError) {
            try MassifCommand.readChunks(
                descriptor: descriptor,
                path: path,
                from: sequential ? nil : part.start,
                upTo: part.end,
                while: proceed
            ) { (chunk) throws(MassifError) in
                try parser.consumePacked(chunk) { take($0) }
            }
            if part.end == nil {
                parser.endInput()
                while let event = try parser.nextPacked() { take(event) }
            }
        } catch {
            part.error = error
        }
        part.parser = parser
        part.printer = printer
    }

    /// Reads the parts on threads of their own (the first on the calling thread) and joins them.
    private static func parted(
        _ descriptor: Int32,
        path: String,
        size: Int,
        cuts: [Int],
        header: MassifHeader,
        options: MassifRenderer.Options
    ) throws(MassifError) -> Outcome {
        let stop = StopFlag()
        let later = cuts.indices.map { index in
            let start = cuts[index]
            let end = index + 1 < cuts.count ? cuts[index + 1] : nil
            let box = PartBox(Part(start: start, end: end, parser: .continuation(fileName: path)))
            let thread = Thread {
                var part = box.part
                run(
                    &part,
                    descriptor: descriptor,
                    path: path,
                    header: header,
                    options: options,
                    room: (end ?? size) - start,
                    while: { !stop.isSet }
                )
                box.finish(part)
            }
            // Rendering recurses once per tree level (at most `MassifParser.maximumDepth`).
            thread.stackSize = 8 << 20
            thread.start()
            return box
        }
        // Every thread reads `descriptor`: all of them have ended before it is closed, whatever happens here.
        defer {
            stop.set()
            for box in later { _ = box.wait() }
        }
        var first = Part(start: 0, end: cuts[0], parser: MassifParser(fileName: path))
        run(&first, descriptor: descriptor, path: path, header: nil, options: options, room: cuts[0])
        if let error = first.error { throw error }
        var printer = first.printer
        var previous = first
        for (index, box) in later.enumerated() {
            guard previous.parser.isBetweenSnapshots else { break }
            let part = box.wait()
            guard part.error == nil else { break }
            if let partPrinter = part.printer { printer?.append(partPrinter) }
            if part.end == nil { return Outcome(printer: printer, parts: index + 2) }
            previous = part
        }
        // A part did not end between snapshots, or one after it failed (and counted its lines from the cut):
        // the first part's parser reads on through the rest of the file, as it would alone, so that the print
        // or the error (its line and the lines it names) is the one of a single thread.
        stop.set()
        first.start = cuts[0]
        first.end = nil
        run(&first, descriptor: descriptor, path: path, header: nil, options: options, room: size)
        if let error = first.error { throw error }
        return Outcome(printer: first.printer, parts: 1)
    }

    /// The header at the start of the file, read from its first chunk; nil when it is not there (the file is
    /// then read on one thread, which says what is wrong).
    private static func header(_ descriptor: Int32, path: String) -> MassifHeader? {
        let chunk = UnsafeMutableRawBufferPointer.allocate(
            byteCount: MassifCommand.chunkSize,
            alignment: MassifCommand.chunkAlignment
        )
        defer { chunk.deallocate() }
        let count = pread(descriptor, chunk.baseAddress, chunk.count, 0)
        guard count > 0 else { return nil }
        var parser = MassifParser(fileName: path)
        parser.feed(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        guard case .header(let header)? = try? parser.nextPacked() else { return nil }
        return header
    }

    /// Where the parts after the first start: for each even share of the file, the first line `#-----------`
    /// followed by a `snapshot=` line after it; fewer cuts where there is none within `searchWindow`.
    private static func cuts(_ descriptor: Int32, size: Int, parts: Int) -> [Int] {
        let marker = Array("\n#-----------\nsnapshot=".utf8)
        let window = UnsafeMutableRawBufferPointer.allocate(
            byteCount: searchWindow,
            alignment: MassifCommand.chunkAlignment
        )
        defer { window.deallocate() }
        var cuts: [Int] = []
        for part in 1..<parts {
            let from = max(size / parts * part, (cuts.last ?? 0) + 1)
            let count = pread(descriptor, window.baseAddress, window.count, off_t(from))
            guard count > 0, let found = find(marker, in: UnsafeRawBufferPointer(rebasing: window[0..<count])) else {
                break
            }
            // The cut is at the `#`, the start of a line.
            cuts.append(from + found + 1)
        }
        return cuts
    }

    /// The offset of the first occurrence of `marker` (which starts with a newline) in `bytes`.
    private static func find(_ marker: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, bytes.count >= marker.count else { return nil }
        var start = 0
        let last = bytes.count - marker.count
        while start <= last {
            guard let newline = memchr(base + start, 0x0A, last - start + 1) else { return nil }
            let offset = base.distance(to: UnsafeRawPointer(newline))
            let matches = marker.withUnsafeBytes {
                memcmp(base + offset, $0.baseAddress.unsafelyUnwrapped, $0.count) == 0
            }
            if matches { return offset }
            start = offset + 1
        }
        return nil
    }
}

/// A part read on another thread, handed to the calling thread when it is done.
private final class PartBox: @unchecked Sendable {
    // `part` and `done` are written by the part's thread and read by the calling thread with `condition`
    // locked, except `part` before the thread starts.
    private let condition = NSCondition()
    private(set) var part: Part
    private var done = false

    typealias Part = MassifPrintParts.Part

    init(_ part: Part) {
        self.part = part
    }

    func finish(_ part: Part) {
        condition.lock()
        defer { condition.unlock() }
        self.part = part
        done = true
        condition.broadcast()
    }

    /// The part, once its thread has finished with it.
    func wait() -> Part {
        condition.lock()
        defer { condition.unlock() }
        while !done { condition.wait() }
        return part
    }
}

/// Tells the threads reading parts that their work is no longer wanted (an error or a fallback earlier in the
/// file); they stop before their next read.
private final class StopFlag: @unchecked Sendable {
    // `stopped` is read and written with `lock` held.
    private let lock = NSLock()
    private var stopped = false

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    func set() {
        lock.lock()
        defer { lock.unlock() }
        stopped = true
    }
}
