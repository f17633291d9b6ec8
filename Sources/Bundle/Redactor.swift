/// Replaces secrets in bytes: the machine's host names and the values of environment variables.
///
/// Pure: the caller gathers the host names and the environment (``MachineFacts``) and decides which
/// files to pass through. One pass over the bytes tries, at each position, the rules whose first byte
/// matches, longest first, so a value that contains another is replaced whole.
public struct Redactor: Sendable, Hashable {
    /// One thing to replace.
    public struct Rule: Sendable, Hashable {
        /// The bytes to find.
        public var value: [UInt8]
        /// What stands in their place.
        public var placeholder: [UInt8]
        /// Whether the value must stand on its own: not preceded or followed by a letter, digit or `_`
        /// (host names: `vm` in `vm.err` but not in `vmalloc`).
        public var wordBounded: Bool
        /// Whether ASCII letters match regardless of case (host names are case-insensitive).
        public var caseInsensitive: Bool
        /// For messages: `host name` or the variable's name.
        public var source: String

        public init(value: String, placeholder: String, wordBounded: Bool, caseInsensitive: Bool, source: String) {
            self.value = Array(value.utf8)
            self.placeholder = Array(placeholder.utf8)
            self.wordBounded = wordBounded
            self.caseInsensitive = caseInsensitive
            self.source = source
        }
    }

    /// What stands for a host name.
    public static let hostPlaceholder = "REDACTED_HOST"
    /// Secret values shorter than this are replaced only where they stand as a word.
    public static let minimumSecretLength = 8
    /// Host names that are the same on every machine and say nothing about this one.
    public static let genericHostNames: Set<String> = [
        "localhost", "localhost.localdomain", "localhost6", "ip6-localhost",
    ]

    /// The rules, longest value first.
    public private(set) var rules: [Rule]
    /// For each possible first byte, the indices of the rules that can start with it.
    private var byFirstByte: [[Int]]

    public init(rules: [Rule]) {
        let sorted = rules.filter { !$0.value.isEmpty }.sorted {
            $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.source < $1.source
        }
        self.rules = sorted
        var table = [[Int]](repeating: [], count: 256)
        for (index, rule) in sorted.enumerated() {
            guard let first = rule.value.first else { continue }
            table[Int(first)].append(index)
            if rule.caseInsensitive {
                let other = Self.flipCase(first)
                if other != first { table[Int(other)].append(index) }
            }
        }
        byFirstByte = table
    }

    /// The rules for a machine: its host names (word-bounded, any case) and the values of its secret
    /// environment variables (``isSecret(_:)``, and the variables a plan names with `password_env`),
    /// whatever their length. No other variable is looked for: a value that merely equals a number,
    /// path or shell found in a run (`SHELL=/bin/bash`, `CI_PIPELINE_ID=319815680`) is no secret, and
    /// replacing it would break the bundle.
    ///
    /// - Parameters:
    ///   - hostNames: every name of this machine (short, fully qualified, from /etc/hostname).
    ///   - environment: the packing process's environment.
    ///   - secretNames: more variables whose values are secret (a plan's `password_env`).
    ///   - planEnvironment: variables the run's plan gave a server (`server: {env: ...}`); those with a
    ///     secret name are redacted too, although the packing process never had them.
    public static func forMachine(
        hostNames: [String],
        environment: [String: String],
        secretNames: Set<String> = [],
        planEnvironment: [String: String] = [:]
    ) -> Redactor {
        var rules: [Rule] = []
        var names: Set<String> = []
        for name in hostNames {
            let lowered = name.lowercased()
            guard lowered.utf8.count >= 2, !genericHostNames.contains(lowered), names.insert(lowered).inserted else {
                continue
            }
            rules.append(
                Rule(
                    value: lowered,
                    placeholder: hostPlaceholder,
                    wordBounded: true,
                    caseInsensitive: true,
                    source: "host name"
                )
            )
        }
        var secrets = environment.filter { !$0.value.isEmpty && (isSecret($0.key) || secretNames.contains($0.key)) }
            .map { (name: $0.key, value: $0.value) }
        secrets += planEnvironment.filter { !$0.value.isEmpty && isSecret($0.key) && environment[$0.key] != $0.value }
            .map { (name: $0.key, value: $0.value) }
        for (name, value) in secrets {
            // The value as it stands, and as JSON writes it when it holds quotes or backslashes.
            let escaped = value.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
            for form in Set([value, escaped]) {
                rules.append(
                    Rule(
                        value: form,
                        placeholder: "REDACTED_" + String(name.unicodeScalars.filter(Self.isPlaceholderScalar)),
                        // A short value only where it stands alone, so `ab` does not cut words in half.
                        wordBounded: value.utf8.count < minimumSecretLength,
                        caseInsensitive: false,
                        source: name
                    )
                )
            }
        }
        return Redactor(rules: rules)
    }

    /// Words in a variable's name that say its value is secret.
    public static let secretNameWords = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE"]

    /// Whether a variable's name says its value is secret (`DB_PASSWORD`, `GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`).
    public static func isSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        return !EnvironmentAllowList.allows(name) && secretNameWords.contains { upper.contains($0) }
    }

    /// `bytes` with every rule applied, and where each replacement was (offsets in `bytes`).
    public func applyReporting(_ bytes: [UInt8]) -> ([UInt8], [(offset: Int, source: String)]) {
        guard !rules.isEmpty else { return (bytes, []) }
        var output: [UInt8] = []
        var hits: [(offset: Int, source: String)] = []
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            var copiedUpTo = 0
            while index < buffer.count {
                var matched: Rule?
                for candidate in byFirstByte[Int(buffer[index])] where matches(rules[candidate], in: buffer, at: index)
                {
                    matched = rules[candidate]
                    break
                }
                if let matched {
                    output.append(contentsOf: buffer[copiedUpTo..<index])
                    output.append(contentsOf: matched.placeholder)
                    hits.append((index, matched.source))
                    index += matched.value.count
                    copiedUpTo = index
                } else {
                    index += 1
                }
            }
            if !hits.isEmpty { output.append(contentsOf: buffer[copiedUpTo..<buffer.count]) }
        }
        return hits.isEmpty ? (bytes, []) : (output, hits)
    }

    /// `bytes` with every rule applied.
    public func apply(_ bytes: [UInt8]) -> [UInt8] {
        guard !rules.isEmpty else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var changed = false
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            var copiedUpTo = 0
            while index < buffer.count {
                let candidates = byFirstByte[Int(buffer[index])]
                var matched: Rule?
                for candidate in candidates where matches(rules[candidate], in: buffer, at: index) {
                    matched = rules[candidate]
                    break
                }
                if let matched {
                    output.append(contentsOf: buffer[copiedUpTo..<index])
                    output.append(contentsOf: matched.placeholder)
                    index += matched.value.count
                    copiedUpTo = index
                    changed = true
                } else {
                    index += 1
                }
            }
            if changed { output.append(contentsOf: buffer[copiedUpTo..<buffer.count]) }
        }
        return changed ? output : bytes
    }

    /// `text` with every rule applied.
    public func apply(_ text: String) -> String {
        String(decoding: apply(Array(text.utf8)), as: UTF8.self)
    }

    /// The sources (variable names, `host name`) of the rules that match somewhere in `bytes`.
    public func matches(in bytes: [UInt8]) -> [String] {
        var found: Set<String> = []
        bytes.withUnsafeBufferPointer { buffer in
            for index in 0..<buffer.count {
                for candidate in byFirstByte[Int(buffer[index])] where matches(rules[candidate], in: buffer, at: index)
                {
                    found.insert(rules[candidate].source)
                }
            }
        }
        return found.sorted()
    }

    private func matches(_ rule: Rule, in buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let count = rule.value.count
        guard index + count <= buffer.count else { return false }
        if rule.caseInsensitive {
            for offset in 0..<count where Self.lower(buffer[index + offset]) != Self.lower(rule.value[offset]) {
                return false
            }
        } else {
            for offset in 0..<count where buffer[index + offset] != rule.value[offset] { return false }
        }
        if rule.wordBounded {
            if index > 0 && Self.isWordByte(buffer[index - 1]) { return false }
            if index + count < buffer.count && Self.isWordByte(buffer[index + count]) { return false }
        }
        return true
    }

    static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
            || byte == 0x5f
    }

    static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5a ? byte + 32 : byte }

    static func flipCase(_ byte: UInt8) -> UInt8 {
        if byte >= 0x41 && byte <= 0x5a { return byte + 32 }
        if byte >= 0x61 && byte <= 0x7a { return byte - 32 }
        return byte
    }

    /// Placeholders stay file-name-safe, so that a path and the manifest naming it are redacted alike.
    static func isPlaceholderScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
    }
}

/// The environment variables whose values a bundle may show: locale, time zone, terminal, search path
/// and the allocator and Valgrind settings that change what a run measures. Nothing else of the
/// environment is written, and other values found in the run's files are replaced.
public enum EnvironmentAllowList {
    /// Exact names.
    public static let names: Set<String> = [
        "LANG", "LANGUAGE", "TZ", "TERM", "PATH", "GLIBC_TUNABLES", "VALGRIND_OPTS", "SNAPCTL_TRACE_RSP",
    ]
    /// Name prefixes: the locale categories and glibc's malloc settings (`MALLOC_ARENA_MAX`, ...).
    public static let prefixes = ["LC_", "MALLOC_"]

    /// Whether the variable's value may appear in a bundle.
    public static func allows(_ name: String) -> Bool {
        names.contains(name) || prefixes.contains { name.hasPrefix($0) }
    }

    /// The allowed part of an environment.
    public static func filter(_ environment: [String: String]) -> [String: String] {
        environment.filter { allows($0.key) }
    }
}

extension String {
    /// Every occurrence of `target` replaced, without Foundation.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[rest.startIndex..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
