import Foundation
import MySQLServer
import Plan
import RunRecord
import Synchronization
import TestSupport
import Valgrind

@testable import Session

/// Runs a plan through the real engine against a ``FakeServer`` and ``FakeMonitor``, in a scratch run
/// directory that is removed afterwards.
struct EngineHarness {
    let server = FakeServer()
    let monitor: FakeMonitor
    var startFailure: ServerError?
    var monitorFailure: ValgrindError?

    init() { monitor = FakeMonitor(server: server) }

    var effects: SessionEffects {
        let (server, monitor, startFailure, monitorFailure) = (server, monitor, startFailure, monitorFailure)
        return SessionEffects(
            startServer: { request in
                server.state.withLock { $0.startedWithXTree = request.xtreeMemory }
                return startFailure.map { .failure($0) } ?? .success(server)
            },
            connectMonitor: { _, _ in monitorFailure.map { .failure($0) } ?? .success(monitor) }
        )
    }

    static func plan(_ yaml: String, requireSteps: Bool = true) throws -> Plan {
        try Plan.load(
            yaml: "version: 1\nname: fake\n" + yaml,
            fileName: "fake.yaml",
            options: Plan.LoadOptions(requireSteps: requireSteps)
        )
    }

    func options(_ plan: Plan, in directory: String) -> SessionOptions {
        var options = SessionOptions(plan: plan, planText: "", planSource: "fake.yaml", runDirectory: directory)
        options.effects = effects
        return options
    }

    /// Runs `yaml`'s plan to the end and returns what the session returns.
    func run(_ yaml: String) async throws -> SessionResult {
        let scratch = try Scratch("engine")
        defer { scratch.cleanup() }
        return try await Session.run(options(try Self.plan(yaml), in: scratch.run))
    }
}

extension SessionResult {
    func step(_ label: String) -> StepRecord? { manifest.steps.first { $0.label == label } }
}
