import Foundation
import Massif

/// `snapctl massif print` of a massif file, read and parsed on one thread while the calling thread renders.
///
/// Reading and parsing (read(2), line splitting, numbers, frame lookup) and rendering (percentages, grouped
/// numbers, frame text) cost about the same, so on two cores the print takes the time of the slower half rather
/// than of both. The parser hands packed snapshots over in batches through a queue of a few batches: when the
/// renderer falls behind the parser waits, so memory holds a bounded number of trees whatever the file's size.
/// A parse error ends the parser's side; the renderer stops there and the error (`FILE:LINE: ...`) is thrown
/// to the caller as if the parse had been on its own thread.
enum MassifPrintPipeline {
    /// Snapshots in one hand-over: enough that the two threads rarely have to wake each other.
    static let batchSnapshots = 16
    /// Tree lines in one hand-over: a batch is handed over early when its trees are large.
    static let batchNodes = 1 << 16
    /// Batches parsed and not yet rendered, at most.
    static let queueDepth = 4

    /// The printer holding the whole print of `path`. `pipelined: false` does the same on the calling
    /// thread alone (small files, and the tests that compare the two).
    static func print(
        _ path: String,
        options: MassifRenderer.Options,
        pipelined: Bool = true
    ) throws(MassifError) -> MassifPrinter? {
        var printer: MassifPrinter?
        func take(_ event: MassifParser.PackedEvent) {
            switch event {
            case .header(let header): printer = MassifPrinter(header: header, options: options)
            case .snapshot(let snapshot): printer?.add(snapshot)
            }
        }
        guard pipelined else {
            var parser = MassifParser(fileName: path)
            try MassifCommand.readChunks(path) { (chunk) throws(MassifError) in
                try parser.consumePacked(chunk) { take($0) }
            }
            parser.endInput()
            while let event = try parser.nextPacked() { take(event) }
            return printer
        }
        let queue = BatchQueue(depth: queueDepth)
        let parsing = Thread { parse(path, into: queue) }
        parsing.stackSize = 8 << 20
        parsing.start()
        while let batch = queue.take() {
            for event in batch { take(event) }
        }
        if let failure = queue.failure { throw failure }
        return printer
    }

    /// The parser's side: every event of the file, in batches, then the end (with the error, if any).
    private static func parse(_ path: String, into queue: BatchQueue) {
        var batch: [MassifParser.PackedEvent] = []
        var nodes = 0
        func add(_ event: MassifParser.PackedEvent) {
            batch.append(event)
            if case .snapshot(let snapshot) = event { nodes += snapshot.tree?.nodes.count ?? 0 }
            if batch.count >= batchSnapshots || nodes >= batchNodes {
                queue.put(batch)
                batch = []
                batch.reserveCapacity(batchSnapshots)
                nodes = 0
            }
        }
        do throws(MassifError) {
            var parser = MassifParser(fileName: path)
            try MassifCommand.readChunks(path) { (chunk) throws(MassifError) in
                try parser.consumePacked(chunk) { add($0) }
            }
            parser.endInput()
            while let event = try parser.nextPacked() { add(event) }
            if !batch.isEmpty { queue.put(batch) }
            queue.finish(failure: nil)
        } catch {
            // Snapshots before the bad line are not rendered: the print fails as a whole.
            queue.finish(failure: error)
        }
    }
}

/// A bounded queue of batches from one producer thread to one consumer thread.
final class BatchQueue: @unchecked Sendable {
    // Every stored property is read and written with `condition` locked.
    private let condition = NSCondition()
    private let depth: Int
    private var batches: [[MassifParser.PackedEvent]] = []
    private var finished = false
    private var error: MassifError?

    init(depth: Int) {
        self.depth = max(1, depth)
    }

    /// Adds a batch, waiting while `depth` batches are waiting already.
    func put(_ batch: [MassifParser.PackedEvent]) {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= depth { condition.wait() }
        batches.append(batch)
        condition.broadcast()
    }

    /// Says that no batch will follow, and why when it is an error.
    func finish(failure: MassifError?) {
        condition.lock()
        defer { condition.unlock() }
        finished = true
        error = failure
        condition.broadcast()
    }

    /// The next batch, waiting for it; nil once the producer has finished and every batch was taken, or as soon
    /// as it has failed (the batches left are of no use then).
    func take() -> [MassifParser.PackedEvent]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        if error != nil || batches.isEmpty { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }

    /// The producer's error, once `take()` has returned nil.
    var failure: MassifError? {
        condition.lock()
        defer { condition.unlock() }
        return error
    }
}
