import Foundation

/// Runs blocking work (reading and parsing an xtree dump of tens of megabytes) on a thread of its own, so that
/// the cooperative pool (two threads on our machines) keeps serving the run's other tasks: the `during` timer,
/// the monitor's relay, the step connections.
enum BlockingWork {
    static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(E) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        return try result.get()
    }
}
