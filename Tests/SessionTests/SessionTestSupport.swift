import ArgumentParser
import Foundation
import Plan
import RunRecord
import Session
import Synchronization
import TestSupport
import Testing

@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// Events a session reported, collected from its callback.
final class Events: Sendable {
    private let events = Mutex<[SessionEvent]>([])
    func append(_ event: SessionEvent) { events.withLock { $0.append(event) } }
    var all: [SessionEvent] { events.withLock { $0 } }
}

enum SessionTestSupport {
    /// Loads a plan as the CLI does, and runs it.
    static func run(
        planFile: String,
        out: String,
        events: Events = Events(),
        onEvent: @escaping @Sendable (SessionEvent) -> Void = { _ in }
    ) async throws -> SessionResult {
        let (plan, text) = try SessionCommand.loadPlan(planFile)
        let options = SessionOptions(
            plan: plan,
            planText: text,
            planSource: planFile,
            runDirectory: out,
            events: { event in
                events.append(event)
                onEvent(event)
            }
        )
        return try await Session.run(options)
    }

    /// A session's run is finalised: see ``RunChecks/expectFinalised(_:exitCode:status:files:sourceLocation:)``.
    static func expectFinalised(_ result: SessionResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try RunChecks.expectFinalised(result.runDirectory, exitCode: result.exitCode, sourceLocation: sourceLocation)
    }

    /// Runs `snapctl ARGS` in-process and returns the exit status it would have.
    static func exitStatus(_ arguments: [String]) async -> Int32 {
        do {
            var command = try Snapctl.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            return Snapctl.exitCode(for: error).rawValue
        }
    }
}
