import CSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The Valgrind-side checks of `snapctl doctor`, as data: is valgrind there, is it new enough, and will
/// vgdb be able to wake an idle server (which needs ptrace).
public enum ValgrindDoctor {
    /// Every check, in the order the CLI shows them.
    public static func checks(path: String? = nil) async -> [DoctorCheck] {
        var checks = [await installation(path: path)]
        checks.append(yama(scope: readYamaScope(), hasCapability: hasPtraceCapability()))
        checks.append(await ptraceAttempt())
        return checks
    }

    static func installation(path: String?) async -> DoctorCheck {
        switch await ValgrindInstallation.locate(path: path) {
        case .found(let installation):
            if installation.needsNativeAIOWorkaround {
                return DoctorCheck(
                    name: "valgrind",
                    status: .warn,
                    detail:
                        "valgrind \(installation.version) at \(installation.valgrind), vgdb at \(installation.vgdb); "
                        + "below 3.23 MariaDB hangs at 'Using io_uring' under valgrind, so InnoDB must not use io_uring "
                        + "(snapctl adds --innodb-use-native-aio=0 to servers it starts)",
                    fix:
                        "attach only to servers started with --innodb-use-native-aio=0, or install valgrind 3.23 or newer"
                )
            }
            return DoctorCheck(
                name: "valgrind",
                status: .pass,
                detail: "valgrind \(installation.version) at \(installation.valgrind), vgdb at \(installation.vgdb)"
            )
        case .valgrindMissing(let searchPath):
            return DoctorCheck(
                name: "valgrind",
                status: .fail,
                detail: "no valgrind in \(searchPath.joined(separator: ":"))",
                fix: "apt-get install valgrind (or run scripts/setup)"
            )
        case .vgdbMissing(let valgrind, _):
            return DoctorCheck(
                name: "valgrind",
                status: .fail,
                detail: "valgrind at \(valgrind) but no vgdb beside it; snapshots need vgdb",
                fix: "install the full valgrind package (apt-get install valgrind)"
            )
        case .versionUnreadable(let valgrind, let output):
            return DoctorCheck(
                name: "valgrind",
                status: .fail,
                detail: "\(valgrind) --version printed no version: \(output.prefix(200))",
                fix: "reinstall valgrind"
            )
        }
    }

    /// Yama's ptrace_scope, or `nil` when the kernel has no Yama.
    static func readYamaScope() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/yama/ptrace_scope", encoding: .utf8) else {
            return nil
        }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whether CAP_SYS_PTRACE (bit 19) is in this process's effective set.
    static func hasPtraceCapability() -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << 19) != 0
    }

    /// What Yama allows. Scope 1 is fine: Valgrind calls `prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY)` at
    /// startup (`remote-utils.c:VG_(set_ptracer)`); scope 2 needs CAP_SYS_PTRACE; scope 3 forbids attaching.
    static func yama(scope: Int?, hasCapability: Bool) -> DoctorCheck {
        let capability = hasCapability ? "CAP_SYS_PTRACE held" : "no CAP_SYS_PTRACE"
        switch scope {
        case nil:
            return DoctorCheck(name: "ptrace scope", status: .pass, detail: "no Yama in this kernel; \(capability)")
        case 0?:
            return DoctorCheck(name: "ptrace scope", status: .pass, detail: "kernel.yama.ptrace_scope=0; \(capability)")
        case 1?:
            return DoctorCheck(
                name: "ptrace scope",
                status: .pass,
                detail: "kernel.yama.ptrace_scope=1, which Valgrind lifts for its own process; \(capability)"
            )
        case 2? where hasCapability:
            return DoctorCheck(name: "ptrace scope", status: .pass, detail: "kernel.yama.ptrace_scope=2; \(capability)")
        case 2?:
            return DoctorCheck(
                name: "ptrace scope",
                status: .fail,
                detail: "kernel.yama.ptrace_scope=2 and \(capability): vgdb cannot wake an idle server",
                fix: "run snapctl as root, or sysctl kernel.yama.ptrace_scope=1"
            )
        case let other?:
            return DoctorCheck(
                name: "ptrace scope",
                status: .fail,
                detail: "kernel.yama.ptrace_scope=\(other): no process may attach; vgdb cannot wake an idle server",
                fix: "sysctl kernel.yama.ptrace_scope=1 (scope 3 can only be lowered by a reboot)"
            )
        }
    }

    /// Attaches to a child process for real, which catches what the settings do not show: a seccomp
    /// profile or a container without CAP_SYS_PTRACE.
    static func ptraceAttempt() async -> DoctorCheck {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            // posix_spawn, waitpid and ptrace block: keep them off the cooperative pool.
            let thread = Thread { continuation.resume(returning: probeChild()) }
            thread.start()
        }
        if result == 0 {
            return DoctorCheck(name: "ptrace attach", status: .pass, detail: "attached to a child process and detached")
        }
        let reason = String(cString: strerror(result))
        return DoctorCheck(
            name: "ptrace attach",
            status: .fail,
            detail: "PTRACE_ATTACH to a child failed: \(reason); vgdb will hang on an idle server",
            fix: "in a container add --cap-add=SYS_PTRACE (and a seccomp profile that allows ptrace); "
                + "otherwise run as root or lower kernel.yama.ptrace_scope"
        )
    }

    private static func probeChild() -> Int32 {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("sleep"), strdup("10"), nil]
        defer { for arg in argv { free(arg) } }
        let spawned = posix_spawnp(&pid, "sleep", nil, nil, argv, environ)
        guard spawned == 0 else { return spawned }
        let result = snapctl_ptrace_probe(pid)
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return result
    }
}
