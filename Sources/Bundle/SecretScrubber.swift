import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Finds and replaces secrets in a run's files before they leave the machine, by what they look like:
/// password-bearing options and SQL (`--password=`, `-p...` on a mysql or mariadb command line,
/// `MASTER_PASSWORD=`, `IDENTIFIED BY '...'`, `PASSWORD('...')`), the user info of URLs, host names
/// and IP addresses (v4 and v6); and by what they are: this machine's host names and the values of
/// secret environment variables (``Redactor``).
///
/// It never breaks a file's structure: in JSON files only the contents of strings are touched, in
/// massif files never a number, and what replaces a password is a placeholder of the same kind (a
/// quoted string stays a quoted string), so SQL still runs on replay.
public struct SecretScrubber: Sendable {
    /// One thing replaced.
    public struct Finding: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The file, relative to the bundle's folder.
        public var path: String
        /// 1-based.
        public var line: Int
        /// `password`, `URL user info`, `host name`, `IP address`, `value of $NAME`.
        public var kind: String

        public var description: String { "\(path):\(line): \(kind)" }

        public static func < (lhs: Finding, rhs: Finding) -> Bool {
            (lhs.path, lhs.line, lhs.kind) < (rhs.path, rhs.line, rhs.kind)
        }
    }

    public static let passwordPlaceholder = "REDACTED_PASSWORD"
    public static let ipPlaceholder = "REDACTED_IP"
    public static let userPlaceholder = "REDACTED_USER"

    /// This machine's host names and the secret variables' values.
    public var redactor: Redactor

    public init(redactor: Redactor) {
        self.redactor = redactor
    }

    /// Last labels of the host names recognised in text (a dotted name ending in one of these).
    static let topLevelDomains: Set<String> = [
        "com", "net", "org", "io", "dev", "cloud", "internal", "local", "localdomain", "lan", "corp",
        "intranet", "edu", "gov", "mil", "info", "biz", "de", "uk", "fr", "nl", "se", "ch", "pl", "ru", "cn", "jp",
        "br", "au", "ca", "eu", "fi", "dk", "cz", "ie", "pt", "il", "kr", "tw", "sg", "hk", "nz", "za", "mx",
    ]
    /// Names that say nothing about any machine.
    static let genericHosts: Set<String> = ["localhost", "localhost.localdomain", "localhost6", "ip6-localhost"]

    /// `bytes` of the file at `path` with every secret replaced, and what was replaced where.
    public func scrub(_ bytes: [UInt8], path: String) -> (bytes: [UInt8], findings: [Finding]) {
        if path.hasSuffix(".json") { return scrubJSON(bytes, path: path) }
        if path.hasSuffix(".massif") { return scrubMassif(bytes, path: path) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            // Not text: only the exact values.
            let (output, hits) = redactor.applyReporting(bytes)
            return (output, findings(hits, in: bytes, path: path, baseLine: 1))
        }
        let (scrubbed, found) = scrubText(text, path: path, baseLine: 1)
        return (Array(scrubbed.utf8), found)
    }

    /// Text: patterns first (their placeholders hold no secret), then the exact values.
    /// `compiled` are the patterns for `text` when the caller already has them: compiling them costs far
    /// more than matching one line, and a massif file has thousands.
    func scrubText(
        _ text: String,
        path: String,
        baseLine: Int,
        compiled: [Pattern]? = nil
    ) -> (String, [Finding]) {
        var result: [Finding] = []
        var current = text
        for pattern in compiled ?? Self.patterns(for: current) {
            let (replaced, lines) = apply(pattern, to: current)
            if !lines.isEmpty {
                current = replaced
                result += lines.map { Finding(path: path, line: baseLine + $0 - 1, kind: pattern.kind) }
            }
        }
        let bytes = Array(current.utf8)
        let (output, hits) = redactor.applyReporting(bytes)
        result += findings(hits, in: bytes, path: path, baseLine: baseLine)
        return (String(decoding: output, as: UTF8.self), result)
    }

    func findings(
        _ hits: [(offset: Int, source: String)],
        in bytes: [UInt8],
        path: String,
        baseLine: Int
    )
        -> [Finding]
    {
        guard !hits.isEmpty else { return [] }
        var result: [Finding] = []
        var line = baseLine
        var position = 0
        for hit in hits.sorted(by: { $0.offset < $1.offset }) {
            while position < hit.offset && position < bytes.count {
                if bytes[position] == 0x0A { line += 1 }
                position += 1
            }
            let kind = hit.source == "host name" ? "host name" : "value of $" + hit.source
            result.append(Finding(path: path, line: line, kind: kind))
        }
        return result
    }

    /// JSON: only the contents of strings, unescaped, scrubbed and escaped again when changed.
    func scrubJSON(_ bytes: [UInt8], path: String) -> ([UInt8], [Finding]) {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var result: [Finding] = []
        var index = 0
        var line = 1
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\"") else {
                if byte == 0x0A { line += 1 }
                output.append(byte)
                index += 1
                continue
            }
            var end = index + 1
            while end < bytes.count && bytes[end] != UInt8(ascii: "\"") {
                end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            end = min(end, bytes.count)
            let raw = Array(bytes[index..<min(end + 1, bytes.count)])
            if let decoded = try? JSONDecoder().decode(String.self, from: Data(raw)) {
                let (scrubbed, found) = scrubText(decoded, path: path, baseLine: line)
                if found.isEmpty {
                    output += raw
                } else {
                    output += Self.jsonString(scrubbed)
                    result += found.map { Finding(path: $0.path, line: line, kind: $0.kind) }
                }
            } else {
                output += raw
            }
            index = end + 1
        }
        return (output, result)
    }

    /// A string as JSON writes it (`JSONEncoder` with `.withoutEscapingSlashes`).
    static func jsonString(_ text: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0..<0x20:
                let hex = String(byte, radix: 16)
                out += Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// Massif files: their numbers stay; the command line, description and call sites are scrubbed.
    func scrubMassif(_ bytes: [UInt8], path: String) -> ([UInt8], [Finding]) {
        let text = String(decoding: bytes, as: UTF8.self)
        var result: [Finding] = []
        var lines: [String] = []
        // The two pattern sets a line can need (see `patterns(for:)`), compiled once per file.
        let clientLine = Self.patterns(for: "mysql")
        let otherLine = Self.patterns(for: "")
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let (keep, rest) = Self.massifNumbers(line)
            if rest.isEmpty {
                lines.append(String(line))
                continue
            }
            let lowered = rest.lowercased()
            let (scrubbed, found) = scrubText(
                String(rest),
                path: path,
                baseLine: number + 1,
                compiled: lowered.contains("mysql") || lowered.contains("mariadb") ? clientLine : otherLine
            )
            result += found
            lines.append(String(keep) + scrubbed)
        }
        return (Array(lines.joined(separator: "\n").utf8), result)
    }

    /// A massif line split into the part that holds its figures and the part that is text.
    static func massifNumbers(_ line: Substring) -> (Substring, Substring) {
        for key in ["snapshot=", "time=", "mem_heap_B=", "mem_heap_extra_B=", "mem_stacks_B=", "heap_tree="]
        where line.hasPrefix(key) {
            return (line, "")
        }
        // A tree line: ` n2: 1234 0x4C2B: fn (file.c:12)`; the text starts after the byte count.
        let trimmed = line.drop { $0 == " " }
        if trimmed.hasPrefix("n"), let colon = trimmed.firstIndex(of: ":") {
            let afterColon = trimmed[trimmed.index(after: colon)...].drop { $0 == " " }
            let count = afterColon.prefix { $0.isNumber }
            return (line[..<count.endIndex], line[count.endIndex...])
        }
        return ("", line)
    }

    // MARK: Patterns

    /// A regular expression and what its matches become.
    struct Pattern {
        var kind: String
        var regex: Regex<AnyRegexOutput>
        /// The replacement of a match, or `nil` to keep it.
        var replace: (Regex<AnyRegexOutput>.Match, String) -> String?
    }

    static func regex(_ text: String) -> Regex<AnyRegexOutput> {
        do {
            return try Regex(text)
        } catch {
            // The expressions are constants of this file: a typo is a programming error the tests catch.
            preconditionFailure("bad pattern \(text): \(error)")
        }
    }

    static let quoted = #"'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*""#

    /// The patterns that apply to `text` (the `-p` short option only on mysql or mariadb command lines).
    static func patterns(for text: String) -> [Pattern] {
        var list: [Pattern] = []
        // scheme://user:password@host
        list.append(
            Pattern(kind: "URL user info", regex: regex(#"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/@:'"]+):([^\s/@'"]+)@"#)) {
                match,
                _ in
                let scheme = match.output[1].substring.map(String.init) ?? ""
                return scheme + userPlaceholder + ":" + passwordPlaceholder + "@"
            }
        )
        // IDENTIFIED BY 'x', IDENTIFIED BY PASSWORD 'hash', IDENTIFIED VIA plugin USING 'x'
        list.append(
            Pattern(
                kind: "password",
                regex: regex(
                    #"(?i)\b(identified\s+(?:by|(?:via|with)\s+\w+\s+(?:using|as|by))\s+(?:password\s+)?)("# + quoted
                        + ")"
                )
            ) { match, _ in
                let head = match.output[1].substring.map(String.init) ?? ""
                let value = match.output[2].substring.map(String.init) ?? "'"
                let quote = value.first.map(String.init) ?? "'"
                guard value != quote + passwordPlaceholder + quote, !isVariable(value) else { return nil }
                return head + quote + passwordPlaceholder + quote
            }
        )
        // PASSWORD('x')
        list.append(
            Pattern(kind: "password", regex: regex(#"(?i)\b(password\s*\(\s*)("# + quoted + #")(\s*\))"#)) { match, _ in
                let head = match.output[1].substring.map(String.init) ?? ""
                let value = match.output[2].substring.map(String.init) ?? "'"
                let tail = match.output[3].substring.map(String.init) ?? ")"
                let quote = value.first.map(String.init) ?? "'"
                guard value != quote + passwordPlaceholder + quote, !isVariable(value) else { return nil }
                return head + quote + passwordPlaceholder + quote + tail
            }
        )
        // --password=x, MASTER_PASSWORD = 'x', password=x (DSNs, option files)
        list.append(
            Pattern(
                kind: "password",
                regex: regex(#"(?i)(\b(?:[a-z_]*password|passwd)\s*=\s*)("# + quoted + #"|[^\s,;'"&()]+)"#)
            ) { match, text in
                let head = match.output[1].substring.map(String.init) ?? ""
                let value = match.output[2].substring.map(String.init) ?? ""
                if head.lowercased().hasPrefix("password_env") { return nil }
                // `SET PASSWORD = PASSWORD('x')`: the function is handled above, its name stays.
                if text[match.range.upperBound...].first == "(" { return nil }
                let quote = value.first.flatMap { $0 == "'" || $0 == "\"" ? String($0) : nil } ?? ""
                let bare = quote.isEmpty ? value : String(value.dropFirst().dropLast())
                guard bare != passwordPlaceholder, !bare.hasPrefix("$"), !bare.isEmpty else { return nil }
                return head + quote + passwordPlaceholder + quote
            }
        )
        let lowered = text.lowercased()
        let hostOption = lowered.contains("mysql") || lowered.contains("mariadb") ? #"|(?:^|\s)-h\s*"# : ""
        // --host=name, host=name (and -h name on mysql or mariadb command lines)
        list.append(
            Pattern(
                kind: "host name",
                regex: regex(#"(?i)((?:\bhost\s*=\s*"# + hostOption + #"))([A-Za-z0-9][A-Za-z0-9.\-]*)"#)
            ) {
                match,
                _ in
                let head = match.output[1].substring.map(String.init) ?? ""
                let value = match.output[2].substring.map(String.init) ?? ""
                guard !isKept(host: value) else { return nil }
                return head + (isIPv4(value) ? ipPlaceholder : Redactor.hostPlaceholder)
            }
        )
        if lowered.contains("mysql") || lowered.contains("mariadb") {
            // mysql -psecret (the password glued to -p)
            list.append(
                Pattern(kind: "password", regex: regex(#"(^|[\s"'])-p([^\s"';|&]+)"#)) { match, _ in
                    let lead = match.output[1].substring.map(String.init) ?? ""
                    let value = match.output[2].substring.map(String.init) ?? ""
                    guard value != passwordPlaceholder, !value.hasPrefix("$") else { return nil }
                    return lead + "-p" + passwordPlaceholder
                }
            )
        }
        // IPv4 addresses (not loopback, not 0.0.0.0). Swift's Regex has no lookbehind: the character
        // before is matched (group 1) and given back.
        list.append(
            Pattern(kind: "IP address", regex: regex(#"(^|[^\w.])(\d{1,3}(?:\.\d{1,3}){3})(?![\w.])"#)) { match, _ in
                let lead = match.output[1].substring.map(String.init) ?? ""
                let value = match.output[2].substring.map(String.init) ?? ""
                guard isIPv4(value), !value.hasPrefix("127."), value != "0.0.0.0" else { return nil }
                return lead + ipPlaceholder
            }
        )
        // IPv6 addresses (not ::1 or ::)
        list.append(
            Pattern(
                kind: "IP address",
                regex: regex(#"(^|[^\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?)(?![\w:])"#)
            ) { match, _ in
                let lead = match.output[1].substring.map(String.init) ?? ""
                let value = match.output[2].substring.map(String.init) ?? ""
                let address = value.split(separator: "%").first.map(String.init) ?? value
                guard isIPv6(address), address != "::1", address != "::" else { return nil }
                return lead + ipPlaceholder
            }
        )
        // Dotted host names under a known top-level domain.
        list.append(
            Pattern(
                kind: "host name",
                regex: regex(
                    #"(?i)(^|[^\w.\-/])((?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+([a-z]{2,12}))(?![\w\-]|\.\w)"#
                )
            ) { match, _ in
                let lead = match.output[1].substring.map(String.init) ?? ""
                let value = match.output[2].substring.map(String.init) ?? ""
                let tld = (match.output[3].substring.map(String.init) ?? "").lowercased()
                guard topLevelDomains.contains(tld), !isKept(host: value) else { return nil }
                return lead + Redactor.hostPlaceholder
            }
        )
        return list
    }

    /// `'$NAME'` or `"${NAME}"`: a shell variable standing for the password, no secret itself.
    static func isVariable(_ quoted: String) -> Bool {
        quoted.dropFirst().hasPrefix("$")
    }

    static func isKept(host: String) -> Bool {
        let lowered = host.lowercased()
        return genericHosts.contains(lowered) || lowered.hasPrefix("127.") || lowered == "0.0.0.0"
            || lowered == Redactor.hostPlaceholder.lowercased() || lowered == ipPlaceholder.lowercased()
    }

    static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// `text` with the pattern's matches replaced; the 1-based lines where something was.
    func apply(_ pattern: Pattern, to text: String) -> (String, [Int]) {
        var output = ""
        var lines: [Int] = []
        var last = text.startIndex
        var line = 1
        var counted = text.startIndex
        for match in text.matches(of: pattern.regex) {
            guard let replacement = pattern.replace(match, text) else { continue }
            line += text[counted..<match.range.lowerBound].count { $0 == "\n" }
            counted = match.range.lowerBound
            lines.append(line)
            output += text[last..<match.range.lowerBound]
            output += replacement
            last = match.range.upperBound
        }
        guard !lines.isEmpty else { return (text, []) }
        output += text[last...]
        return (output, lines)
    }
}
