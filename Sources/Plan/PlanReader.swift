import Yams

/// One `key: value` pair of a YAML mapping, with where the key is.
struct Field {
    var key: String
    var keyNode: Node
    var value: Node
}

/// Walks a composed YAML document, building plan values and collecting every problem on the way.
struct PlanReader {
    let file: String
    let options: Plan.LoadOptions
    var errors: [PlanError] = []
    var warnings: [PlanError] = []

    init(file: String, options: Plan.LoadOptions) {
        self.file = file
        self.options = options
    }

    // MARK: Reporting

    mutating func fail(_ message: String, at node: Node?) {
        fail(message, at: node?.mark)
    }

    mutating func fail(_ message: String, at mark: Mark?) {
        errors.append(PlanError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    mutating func warn(_ message: String, at node: Node?) {
        let mark = node?.mark
        warnings.append(
            PlanError(
                file: file,
                line: mark?.line ?? 1,
                column: mark?.column ?? 1,
                message: message,
                severity: .warning
            )
        )
    }

    /// A malformed YAML document, as a plan error at the position Yams reports.
    static func translate(_ error: any Error, yaml: String, file: String) -> PlanError {
        let advice = "check the indentation and quoting here"
        func located(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) -> PlanError {
            var message = "malformed YAML: \(problem)"
            if let context {
                message += " (\(context.text) at \(context.mark.line):\(context.mark.column))"
            }
            return PlanError(file: file, line: mark.line, column: mark.column, message: "\(message); \(advice)")
        }
        guard let yamlError = error as? YamlError else {
            return PlanError(file: file, line: 1, column: 1, message: "malformed YAML: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return located(mark, problem, context)
        case .reader(let problem, let offset, _, _):
            let (line, column) = position(ofCharacterOffset: offset ?? 0, in: yaml)
            return PlanError(
                file: file,
                line: line,
                column: column,
                message: "the plan is not valid UTF-8 text: \(problem)"
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            let noun = duplicates.count == 1 ? "key \(keys) appears" : "keys \(keys) appear"
            return PlanError(
                file: file,
                line: context.mark.line,
                column: context.mark.column,
                message: "\(noun) more than once in this mapping; keep one"
            )
        default:
            return PlanError(file: file, line: 1, column: 1, message: "malformed YAML: \(yamlError)")
        }
    }

    /// The 1-based line and column of the character at `offset`.
    static func position(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character.isNewline {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return (line, column)
    }

    // MARK: Shapes

    /// How a value reads in a message: `'text'`, `a list`, `a mapping`, `nothing`.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if node.null != nil { return "nothing" }
            return "'\(scalar.string)'"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .alias: return "an alias"
        }
    }

    static func isNull(_ node: Node) -> Bool {
        if case .scalar = node, node.null != nil { return true }
        return false
    }

    /// The fields of a mapping, reporting unknown keys (with a suggestion), inline passwords and non-mappings.
    mutating func fields(_ node: Node, of context: String, keys: [String], example: String) -> [Field]? {
        guard case .mapping(let mapping) = node else {
            fail("\(context): expected a mapping like \(example), got \(Self.describe(node))", at: node)
            return nil
        }
        var fields: [Field] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                fail("\(context): keys must be plain names, got \(Self.describe(keyNode))", at: keyNode)
                continue
            }
            let key = keyScalar.string
            if keys.contains(key) {
                fields.append(Field(key: key, keyNode: keyNode, value: value))
            } else if key == "password" || key == "passwd" || key == "pass" {
                fail(
                    "\(context): passwords may not be written in a plan (it is saved with every run); put the "
                        + "password in an environment variable and name it with password_env, e.g. "
                        + "password_env: MYSQL_PWD",
                    at: keyNode
                )
            } else if let suggestion = Suggestion.closest(to: key, among: keys) {
                fail("unknown key '\(key)' in \(context); did you mean '\(suggestion)'?", at: keyNode)
            } else {
                fail(
                    "unknown key '\(key)' in \(context); the keys here are \(keys.joined(separator: ", "))",
                    at: keyNode
                )
            }
        }
        return fields
    }

    // MARK: Scalars

    /// A text value; `nil` (after reporting) when the value is not text.
    mutating func text(_ field: Field, in context: String, allowEmpty: Bool = false) -> String? {
        guard case .scalar(let scalar) = field.value, !Self.isNull(field.value) else {
            fail("'\(field.key)' in \(context): expected text, got \(Self.describe(field.value))", at: field.value)
            return nil
        }
        if !allowEmpty && scalar.string.trimmingSpaces().isEmpty {
            fail("'\(field.key)' in \(context): expected text, got an empty value", at: field.value)
            return nil
        }
        return scalar.string
    }

    /// `true` or `false` (YAML's `yes`/`no` and `on`/`off` too, as the YAML parser reads them).
    mutating func boolean(_ field: Field, in context: String) -> Bool? {
        if case .scalar = field.value, let value = field.value.bool { return value }
        fail(
            "'\(field.key)' in \(context): expected true or false, got \(Self.describe(field.value))",
            at: field.value
        )
        return nil
    }

    /// A whole number of at least `minimum`.
    mutating func integer(_ field: Field, in context: String, minimum: Int) -> Int? {
        let what = minimum == 0 ? "a whole number, 0 or more" : "a whole number, \(minimum) or more"
        guard case .scalar(let scalar) = field.value, let value = Int(scalar.string.trimmingSpaces()) else {
            fail("'\(field.key)' in \(context): expected \(what), got \(Self.describe(field.value))", at: field.value)
            return nil
        }
        guard value >= minimum else {
            fail("'\(field.key)' in \(context): expected \(what), got \(value)", at: field.value)
            return nil
        }
        return value
    }

    /// A duration; `positive` refuses `0s`.
    mutating func duration(_ field: Field, in context: String, positive: Bool) -> PlanDuration? {
        guard case .scalar(let scalar) = field.value, !Self.isNull(field.value) else {
            fail(
                "'\(field.key)' in \(context): expected a duration like 250ms or 2s, got \(Self.describe(field.value))",
                at: field.value
            )
            return nil
        }
        do {
            let duration = try PlanDuration.parse(scalar.string)
            if positive && duration.milliseconds == 0 {
                fail("'\(field.key)' in \(context): expected a duration longer than 0s, got '0'", at: field.value)
                return nil
            }
            return duration
        } catch {
            fail("'\(field.key)' in \(context): \(error.message)", at: field.value)
            return nil
        }
    }

    /// A size in bytes.
    mutating func size(_ field: Field, in context: String) -> ByteSize? {
        guard case .scalar(let scalar) = field.value, !Self.isNull(field.value) else {
            fail(
                "'\(field.key)' in \(context): expected a size like 64MiB or 512KiB, got \(Self.describe(field.value))",
                at: field.value
            )
            return nil
        }
        do {
            return try ByteSize.parse(scalar.string)
        } catch {
            fail("'\(field.key)' in \(context): \(error.message)", at: field.value)
            return nil
        }
    }

    /// One of a fixed set of words, with a suggestion for a near miss.
    mutating func choice<Value: RawRepresentable & CaseIterable>(
        _ field: Field,
        in context: String,
        as type: Value.Type = Value.self
    ) -> Value? where Value.RawValue == String {
        choice(field.value, key: field.key, in: context, as: type)
    }

    mutating func choice<Value: RawRepresentable & CaseIterable>(
        _ node: Node,
        key: String,
        in context: String,
        as type: Value.Type = Value.self
    ) -> Value? where Value.RawValue == String {
        let words = Value.allCases.map(\.rawValue)
        let choices = words.joined(separator: " | ")
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            fail("'\(key)' in \(context): expected one of \(choices), got \(Self.describe(node))", at: node)
            return nil
        }
        if let value = Value(rawValue: scalar.string.trimmingSpaces()) { return value }
        if let suggestion = Suggestion.closest(to: scalar.string, among: words) {
            fail(
                "'\(key)' in \(context): unknown value '\(scalar.string)'; did you mean '\(suggestion)'?",
                at: node
            )
        } else {
            fail(
                "'\(key)' in \(context): unknown value '\(scalar.string)'; expected one of \(choices)",
                at: node
            )
        }
        return nil
    }

    /// A list of texts; a single text counts as a list of one.
    mutating func textList(_ field: Field, in context: String) -> [String]? {
        switch field.value {
        case .scalar(let scalar) where !Self.isNull(field.value):
            return [scalar.string]
        case .sequence(let sequence):
            var items: [String] = []
            for item in sequence {
                guard case .scalar(let scalar) = item, !Self.isNull(item) else {
                    fail("'\(field.key)' in \(context): expected a list of texts, got \(Self.describe(item))", at: item)
                    continue
                }
                items.append(scalar.string)
            }
            return items
        default:
            fail(
                "'\(field.key)' in \(context): expected a list of texts, got \(Self.describe(field.value))",
                at: field.value
            )
            return nil
        }
    }

    /// SQL statements: a text is split on `;` (see ``SQLSplitter``); each item of a list is one statement.
    mutating func statements(_ field: Field, in context: String, allowEmpty: Bool = false) -> [String]? {
        var statements: [String]
        switch field.value {
        case .scalar(let scalar) where !Self.isNull(field.value):
            do {
                statements = try SQLSplitter.split(scalar.string)
            } catch {
                fail(
                    "'\(field.key)' in \(context): at line \(error.line), column \(error.column) of the SQL: "
                        + error.message,
                    at: field.value
                )
                return nil
            }
        case .sequence:
            guard let items = textList(field, in: context) else { return nil }
            statements = items.map { $0.trimmingSpaces() }
            if let blank = statements.firstIndex(where: \.isEmpty) {
                fail("'\(field.key)' in \(context): statement \(blank + 1) is empty; remove it", at: field.value)
                return nil
            }
        default:
            fail(
                "'\(field.key)' in \(context): expected a statement or a list of statements, got "
                    + Self.describe(field.value),
                at: field.value
            )
            return nil
        }
        if statements.isEmpty && !allowEmpty {
            fail("'\(field.key)' in \(context): expected at least one statement, got none", at: field.value)
            return nil
        }
        return statements
    }

    /// The name of an environment variable holding a password.
    mutating func environmentName(_ field: Field, in context: String) -> String? {
        guard let name = text(field, in: context) else { return nil }
        let valid =
            name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        guard valid else {
            fail(
                "'\(field.key)' in \(context): expected the name of an environment variable like MYSQL_PWD, "
                    + "got '\(name)'; the password itself goes in that variable, never in the plan",
                at: field.value
            )
            return nil
        }
        return name
    }
}

extension [Field] {
    subscript(key: String) -> Field? {
        first { $0.key == key }
    }
}
