/// One constructor per kind of value, so the schema table reads as a list of keys.
extension ConfigSchemaNode {
    static let redacted = "<redacted>"

    static func string(_ name: String, _ keyPath: ConfigKeyPath<String>, legacy: String? = nil, secret: Bool = false)
        -> Self
    {
        .field(
            .make(
                name, keyPath, kind: "string", legacy: legacy, secret: secret, parse: { try $0.stringValue() },
                format: { value, redact in YAMLText.quoted(redact && !value.isEmpty ? redacted : value) }))
    }

    /// A URL whose password, if it has one, is a secret (`amqp://user:password@host/`).
    static func url(_ name: String, _ keyPath: ConfigKeyPath<String>, legacy: String? = nil) -> Self {
        .field(
            .make(
                name, keyPath, kind: "URL", legacy: legacy, secret: true, parse: { try $0.stringValue() },
                format: { value, redact in
                    YAMLText.quoted(redact ? ConfigURL.redactingPassword(value, with: redacted) : value)
                }))
    }

    static func strings(_ name: String, _ keyPath: ConfigKeyPath<[String]>, secret: Bool = false) -> Self {
        .field(
            .make(
                name, keyPath, kind: "list of strings", secret: secret, parse: { $0.listItems() },
                format: { items, redact in YAMLText.flowList(items.map { YAMLText.quoted(redact ? redacted : $0) }) }))
    }

    static func integer<Integer: FixedWidthInteger>(_ name: String, _ keyPath: ConfigKeyPath<Integer>) -> Self {
        .field(
            .make(
                name, keyPath, kind: "integer", parse: { try $0.integer(Integer.self) },
                format: { value, _ in "\(value)" }))
    }

    static func number(_ name: String, _ keyPath: ConfigKeyPath<Double>) -> Self {
        .field(
            .make(
                name, keyPath, kind: "number", parse: { try $0.number() },
                format: { value, _ in YAMLText.number(value) }))
    }

    static func boolean(_ name: String, _ keyPath: ConfigKeyPath<Bool>) -> Self {
        .field(.make(name, keyPath, kind: "boolean", parse: { try $0.boolean() }, format: { value, _ in "\(value)" }))
    }

    static func duration(_ name: String, _ keyPath: ConfigKeyPath<Duration>) -> Self {
        .field(
            .make(
                name, keyPath, kind: "duration",
                parse: { try ConfigDuration.parse($0.scalarText(expecting: "a duration such as 15s or 500ms")) },
                format: { value, _ in ConfigDuration.format(value) }))
    }

    static func bytes(_ name: String, _ keyPath: ConfigKeyPath<Int>) -> Self {
        .field(
            .make(
                name, keyPath, kind: "byte size",
                parse: { try ConfigByteSize.parse($0.scalarText(expecting: "a size such as 1048576 or 1MiB")) },
                format: { value, _ in ConfigByteSize.format(value) }))
    }

    static func choice<Choice: ConfigChoice>(_ name: String, _ keyPath: ConfigKeyPath<Choice>, legacy: String? = nil)
        -> Self
    {
        .field(
            .make(
                name, keyPath, kind: Choice.allCases.map(\.rawValue).joined(separator: " | "), legacy: legacy,
                parse: { try $0.choice(Choice.self) }, format: { value, _ in value.rawValue }))
    }

    /// A list of words from a closed set; every unknown word is named in one message.
    static func choices<Choice: ConfigChoice>(_ name: String, _ keyPath: ConfigKeyPath<[Choice]>) -> Self {
        .field(
            .make(
                name, keyPath, kind: "list of \(Choice.spelledOut)", parse: parseChoices,
                format: { values, _ in YAMLText.flowList(values.map(\.rawValue)) }))
    }

    private static func parseChoices<Choice: ConfigChoice>(_ input: ConfigInput) throws -> [Choice] {
        let items = input.listItems()
        let unknown = items.filter { Choice.parse($0) == nil }
        guard unknown.isEmpty else {
            let names = unknown.map { "'\($0)'" }.joined(separator: ", ")
            throw ConfigValueError("unknown \(names); expected any of \(Choice.spelledOut)")
        }
        return items.compactMap(Choice.parse)
    }
}
