/// Writes a configuration as block YAML in schema order, every key present.
enum ConfigRenderer {
    /// - Parameter comment: a trailing comment for a dotted key, or nil for none.
    static func render(
        _ configuration: BridgeConfiguration, redactingSecrets: Bool, comment: (String) -> String? = { _ in nil }
    ) -> String {
        var lines: [String] = []
        emit(ConfigSchema.root, prefix: "", indent: "", into: &lines) { field, key in
            let value = field.render(configuration, redactingSecrets)
            return comment(key).map { "\(value)  # \($0)" } ?? value
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func emit(
        _ nodes: [ConfigSchemaNode], prefix: String, indent: String, into lines: inout [String],
        value: (ConfigField, String) -> String
    ) {
        for node in nodes {
            switch node {
            case .section(let name, let children) where children.isEmpty:
                lines.append("\(indent)\(name): {}")
            case .section(let name, let children):
                lines.append("\(indent)\(name):")
                emit(children, prefix: prefix + name + ".", indent: indent + "  ", into: &lines, value: value)
            case .field(let field):
                lines.append("\(indent)\(field.name): \(value(field, prefix + field.name))")
            }
        }
    }
}
