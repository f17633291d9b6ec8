import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a bundle says about the machine that packed it, and what it must not say: read from the system
/// once, then passed around as values so that packing can be tested with any machine.
public struct MachineFacts: Sendable, Hashable {
    /// Every name of the machine: `gethostname`, /etc/hostname, the fully qualified name and its first
    /// label. These are replaced in every packed file.
    public var hostNames: [String]
    /// The packing process's environment.
    public var environment: [String: String]
    public var operatingSystem: BundleEnvironment.OperatingSystem
    public var cpu: BundleEnvironment.CPU

    public init(
        hostNames: [String],
        environment: [String: String],
        operatingSystem: BundleEnvironment.OperatingSystem,
        cpu: BundleEnvironment.CPU
    ) {
        self.hostNames = hostNames
        self.environment = environment
        self.operatingSystem = operatingSystem
        self.cpu = cpu
    }

    /// This machine.
    public static func current() -> MachineFacts {
        MachineFacts(
            hostNames: currentHostNames(),
            environment: ProcessInfo.processInfo.environment,
            operatingSystem: currentOperatingSystem(),
            cpu: currentCPU()
        )
    }

    static func currentHostNames() -> [String] {
        var names: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        if gethostname(&buffer, buffer.count - 1) == 0 {
            names.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        if let file = try? String(contentsOfFile: "/etc/hostname", encoding: .utf8) {
            names += file.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let first = names.first, !first.isEmpty, let canonical = canonicalName(first) { names.append(canonical) }
        // The short form of every fully qualified name.
        for name in names where name.contains(".") {
            if let label = name.split(separator: ".").first { names.append(String(label)) }
        }
        var unique: [String] = []
        for name in names where !name.isEmpty && !unique.contains(name) { unique.append(name) }
        return unique
    }

    /// The fully qualified name from the resolver (`getaddrinfo` with `AI_CANONNAME`), as `hostname -f`.
    static func canonicalName(_ host: String) -> String? {
        var hints = addrinfo()
        hints.ai_flags = AI_CANONNAME
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let result else { return nil }
        defer { freeaddrinfo(result) }
        return result.pointee.ai_canonname.map { String(cString: $0) }
    }

    static func currentOperatingSystem() -> BundleEnvironment.OperatingSystem {
        var pretty = "unknown"
        if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
                pretty = String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(["\""]))
            }
        }
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return BundleEnvironment.OperatingSystem(
            name: pretty,
            kernel: field(names.sysname) + " " + field(names.release),
            machine: field(names.machine)
        )
    }

    static func currentCPU() -> BundleEnvironment.CPU {
        var model = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("model name") {
                if let colon = line.firstIndex(of: ":") {
                    model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    break
                }
            }
        }
        return BundleEnvironment.CPU(model: model, count: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
