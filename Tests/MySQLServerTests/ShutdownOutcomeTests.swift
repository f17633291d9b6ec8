import Testing

@testable import MySQLServer

@Suite("How a server stop is told")
struct ShutdownOutcomeTests {
    func outcome(present: Bool) -> ShutdownOutcome {
        ShutdownOutcome(
            method: .sqlShutdown,
            exit: .exited(0),
            massifFinalFile: "/run/massif.final.out",
            massifFinalFilePresent: present,
            processGroupGone: true,
            removedStaleFiles: [],
            seconds: 0.44
        )
    }

    @Test("the description names Massif's final file once; the summary (a server not profiled) not at all")
    func finalFileNamedOnce() {
        let stopped = outcome(present: true)
        #expect(stopped.summary == "server stopped by SQL SHUTDOWN (exit status 0) in 0.44 s")
        #expect(stopped.description == stopped.summary + "; Massif's final file is /run/massif.final.out")
        #expect(stopped.description.components(separatedBy: "Massif's final file").count == 2)
        #expect(outcome(present: false).description.hasSuffix("; Massif wrote no final file"))
        #expect(!outcome(present: false).summary.contains("Massif"))
    }
}
