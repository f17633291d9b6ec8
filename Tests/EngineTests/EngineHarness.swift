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
    /// The primary steps with `on: primary` run on, when the plan has one.
    let primary: FakePrimary
    var startFailure: ServerError?
    var monitorFailure: ValgrindError?
    var primaryFailure: ServerError?
    /// The replication password the engine is given.
    static let replicationPassword = "FakeReplPasswordMarker"

    init(attachedPrimary: Bool = false) {
        monitor = FakeMonitor(server: server)
        primary = FakePrimary(replica: server, attached: attachedPrimary)
        if attachedPrimary {
            server.state.withLock {
                $0.replication.configured = true
                $0.replication.ioRunning = "Yes"
                $0.replication.sqlRunning = "Yes"
                $0.replication.applied = $0.replication.binlog
            }
        }
    }

    var effects: SessionEffects {
        let (server, monitor, startFailure, monitorFailure) = (server, monitor, startFailure, monitorFailure)
        let (primary, primaryFailure) = (primary, primaryFailure)
        var effects = SessionEffects(
            startServer: { request in
                server.state.withLock { $0.startedWithXTree = request.xtreeMemory }
                return startFailure.map { .failure($0) } ?? .success(server)
            },
            connectMonitor: { _, _ in monitorFailure.map { .failure($0) } ?? .success(monitor) }
        )
        effects.startPrimary = { _ in primaryFailure.map { .failure($0) } ?? .success(primary) }
        effects.replicationPassword = { Self.replicationPassword }
        return effects
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
