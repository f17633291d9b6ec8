import Synchronization
import Testing

@testable import REPL

@Suite("where Ctrl-C goes")
struct InterruptRouterTests {
    @Test func toTheInputWhileReadingToTheCommandWhileRunningElseNowhere() {
        let router = InterruptRouter()
        #expect(router.interrupt() == .nothing)
        router.reading()
        #expect(router.interrupt() == .interruptedInput)
        let cancelled = Mutex(0)
        router.running { cancelled.withLock { $0 += 1 } }
        #expect(router.interrupt() == .cancelledCommand)
        #expect(router.interrupt() == .cancelledCommand)
        #expect(cancelled.withLock { $0 } == 2)
        router.idle()
        #expect(router.interrupt() == .nothing)
        #expect(cancelled.withLock { $0 } == 2)
    }
}
