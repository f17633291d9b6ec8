import Foundation
import MySQLServer
import Session
import TestSupport
import Testing

@testable import SnapctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// Attach through `host:` and `port:` rather than a socket: the way a server in a container or on a
/// port-forwarded machine is reached. Also a managed server a plan puts on TCP, and what its passwordless
/// root means there.
@Suite("snapctl session: attach over TCP (integration)", .serialized)
struct AttachOverTCPTests {
    typealias Support = SessionTestSupport

    /// A TCP port nothing listens on now: bound to port 0 on the loopback, read back, released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("attach with host, port, user and password_env profiles a server reached over TCP")
    func attachOverTCP() async throws {
        let scratch = try Scratch("tcp")
        defer { scratch.cleanup() }
        let port = try Self.freePort()
        let server = try await ManagedServer.launch(
            LaunchOptions(
                runDirectory: scratch.path + "/srv",
                serverOptions: ["--skip-networking=0", "--bind-address=127.0.0.1", "--port=\(port)"]
            )
        )
        do {
            // root authenticates by unix socket only; a password user is what a TCP client has.
            let setup = try await server.connect(name: "setup")
            for statement in [
                "CREATE DATABASE app", "CREATE USER 'snap'@'127.0.0.1' IDENTIFIED BY 'tcp-pass-7'",
                "GRANT ALL ON *.* TO 'snap'@'127.0.0.1'",
            ] {
                _ = try await setup.execute(statement)
            }
            await setup.close()
            let planFile = try scratch.write(
                "tcp.yaml",
                """
                version: 1
                name: tcp
                attach: {pid: \(server.valgrindPID), vgdb_prefix: \(server.vgdbPrefix), host: 127.0.0.1, port: \(port),
                         user: snap, password_env: SNAPCTL_TCP_PASSWORD}
                connections: [{name: main, database: app}]
                steps:
                  - label: table
                    sql: CREATE TABLE app.t (id INT, pad CHAR(200)) ENGINE=MEMORY
                  - label: fill
                    sql: INSERT INTO app.t SELECT seq, 'x' FROM seq_1_to_20000
                """
            )
            let (plan, text) = try SessionCommand.loadPlan(planFile)
            let result = try await Session.run(
                SessionOptions(
                    plan: plan,
                    planText: text,
                    planSource: planFile,
                    runDirectory: scratch.run,
                    environment: ["SNAPCTL_TCP_PASSWORD": "tcp-pass-7"]
                )
            )
            #expect(result.exitCode == 0, "\(result.manifest.outcome)")
            #expect(result.manifest.server?.mode == "attached")
            #expect(result.manifest.steps.map(\.outcome) == [.ok, .ok])
            // The MEMORY table's rows were allocated in the server, and seen through the TCP connection's step.
            let fill = try #require(result.report.steps.first { $0.label == "fill" })
            #expect((fill.delta ?? 0) > 2_000_000, "fill grew \(String(describing: fill.delta))")
            try RunChecks.verifyChecksums(scratch.run)
            // The password was read from the environment given, and written nowhere in the run.
            for file in try FileManager.default.subpathsOfDirectory(atPath: scratch.run) {
                let data = FileManager.default.contents(atPath: scratch.run + "/" + file) ?? Data()
                #expect(data.range(of: Data("tcp-pass-7".utf8)) == nil, "the password is in \(file)")
            }
            try await server.checkAlive()
        } catch {
            _ = await server.shutdown()
            throw error
        }
        let outcome = await server.shutdown()
        #expect(outcome.processGroupGone)
    }

    /// A plan may turn the managed server's networking on. Its datadir's root@localhost has no password, and
    /// with host names resolved a login from 127.0.0.1 passes for it: the run says so, and
    /// `--skip-name-resolve` closes it.
    @Test("a managed server listening on TCP with names resolved: root logs in over 127.0.0.1, the run warns")
    func managedServerOnTCPWarns() async throws {
        let scratch = try Scratch("tcpwarn")
        defer { scratch.cleanup() }
        func session(_ name: String, options: [String]) async throws -> (SessionResult, String) {
            let port = try Self.freePort()
            let output = scratch.path + "/\(name).out"
            let all = (["--skip-networking=0", "--bind-address=127.0.0.1", "--port=\(port)"] + options)
                .joined(separator: ", ")
            let plan = try scratch.write(
                "\(name).yaml",
                """
                version: 1
                name: \(name)
                server: {options: [\(all)]}
                snapshots: {default: none}
                steps:
                  - label: login
                    shell: mariadb --protocol=tcp -h127.0.0.1 -P\(port) -uroot -N -e 'SELECT CURRENT_USER()' > \(output) 2>&1 || true
                """
            )
            let result = try await Support.run(planFile: plan, out: scratch.path + "/\(name)-run")
            try Support.expectFinalised(result)
            return (result, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        }

        let (open, login) = try await session("open", options: [])
        #expect(open.exitCode == 0)
        #expect(login.contains("root@localhost"), "the loopback login passed for root@localhost: \(login)")
        let warned = try RunChecks.manifest(open.runDirectory).warnings
        #expect(warned.contains { $0.contains("resolves host names") && $0.contains("--skip-name-resolve") })

        let (closed, refused) = try await session("closed", options: ["--skip-name-resolve"])
        #expect(closed.exitCode == 0)
        #expect(refused.contains("is not allowed to connect"), "root over TCP is refused: \(refused)")
        #expect(!(try RunChecks.manifest(closed.runDirectory).warnings).contains { $0.contains("resolves host names") })
    }
}
