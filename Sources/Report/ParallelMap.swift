import Dispatch
import Synchronization

/// `map` over every core, results in the input's order.
///
/// Why: the report's work per step (a diff of two heap trees, a tree and a flame graph drawn) is
/// independent of the other steps, and a run of hundreds of steps is reported at its end while the
/// user waits; the server is stopped by then, so every core is free.
enum ParallelMap {
    static func map<Element: Sendable, Result: Sendable>(
        _ elements: [Element],
        _ transform: @Sendable (Element) -> Result
    ) -> [Result] {
        guard elements.count > 1 else { return elements.map(transform) }
        let results = Mutex([Result?](repeating: nil, count: elements.count))
        DispatchQueue.concurrentPerform(iterations: elements.count) { position in
            let result = transform(elements[position])
            results.withLock { $0[position] = result }
        }
        // Every position was written once concurrentPerform returned, so none is left out.
        return results.withLock { $0.compactMap { $0 } }
    }
}
