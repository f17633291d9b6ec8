#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A serial executor that runs every job on one dedicated OS thread.
///
/// Connector/C calls block (network reads, `mysql_real_connect`), and the cooperative pool has as many
/// threads as cores (two on our machines): one slow query would stall every other task. A
/// ``Connection`` actor uses one of these as its executor, so its methods, and the blocking C calls in
/// them, run on the connection's own thread, one at a time.
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    // The queue and the stop flag are guarded by `mutex`; `condition` wakes the thread.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [UnownedJob] = []
    private var stopping = false
    /// A label for the executor (the connection name), for debugging.
    let name: String

    /// Starts the thread; it runs until ``stop()``.
    init(name: String) {
        self.name = name
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
        var thread = pthread_t()
        let retained = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(
            &thread,
            nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<ThreadExecutor>.fromOpaque(argument).takeRetainedValue().runLoop()
                return nil
            },
            retained
        )
        precondition(result == 0, "pthread_create failed with \(result)")
        pthread_detach(thread)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unownedJob = UnownedJob(job)
        pthread_mutex_lock(mutex)
        jobs.append(unownedJob)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread run the jobs already queued, then end.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    private func runLoop() {
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !stopping {
                pthread_cond_wait(condition, mutex)
            }
            if jobs.isEmpty {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = jobs.removeFirst()
            pthread_mutex_unlock(mutex)
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
