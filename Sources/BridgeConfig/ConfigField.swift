/// One leaf key of the configuration: how a raw value is typed and stored, and how it is shown.
///
/// Fields are made by the typed constructors in `ConfigSchemaNode`, each around a key path, so that
/// adding a key is one line in `ConfigSchema` and nothing else.
struct ConfigField {
    /// The last component of the dotted key (`first_token`).
    let name: String
    /// What a value looks like, for the key list in the docs ("duration", "list of strings").
    let kind: String
    /// The chatgpt-queue variable that also sets this key, if any.
    let legacyVariable: String?
    let isSecret: Bool
    /// Types `input` and stores it; when it does not fit, throws `ConfigValueError` and changes nothing.
    let assign: (inout BridgeConfiguration, ConfigInput) throws -> Void
    /// The current value as a YAML flow value, secrets replaced when the flag is set.
    let render: (BridgeConfiguration, _ redactingSecrets: Bool) -> String

    static func make<Value>(
        _ name: String, _ keyPath: ConfigKeyPath<Value>, kind: String, legacy: String? = nil, secret: Bool = false,
        parse: @escaping (ConfigInput) throws -> Value, format: @escaping (Value, _ redacting: Bool) -> String
    ) -> ConfigField {
        ConfigField(
            name: name, kind: kind, legacyVariable: legacy, isSecret: secret,
            assign: { configuration, input in configuration[keyPath: keyPath] = try parse(input) },
            render: { configuration, redacting in format(configuration[keyPath: keyPath], redacting && secret) })
    }
}

/// Where a field lives in the configuration.
typealias ConfigKeyPath<Value> = WritableKeyPath<BridgeConfiguration, Value>

/// The configuration's shape: sections holding fields and sections.
enum ConfigSchemaNode {
    case section(String, [ConfigSchemaNode])
    case field(ConfigField)

    var name: String {
        switch self {
        case .section(let name, _): name
        case .field(let field): field.name
        }
    }
}
