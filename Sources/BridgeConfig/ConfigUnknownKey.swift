/// The message for a key the schema does not have, with the best hint available.
enum ConfigUnknownKey {
    static func message(name: String, prefix: String, siblings: [ConfigSchemaNode]) -> String {
        if let close = KeySuggestion.closest(to: name, among: siblings.map(\.name)) {
            return "unknown key; did you mean '\(prefix)\(close)'?"
        }
        // A right key in the wrong section (`port` at the top level) is the other common slip.
        let elsewhere = allKeys.filter { $0.split(separator: ".").last.map(String.init) == name }
        if !elsewhere.isEmpty {
            return "unknown key; did you mean " + elsewhere.map { "'\($0)'" }.joined(separator: " or ") + "?"
        }
        let known = siblings.map(\.name).joined(separator: ", ")
        return siblings.isEmpty ? "unknown key; this section takes no keys" : "unknown key; expected one of \(known)"
    }

    /// Every dotted key and section.
    private static var allKeys: [String] {
        var keys: [String] = []
        func visit(_ nodes: [ConfigSchemaNode], _ prefix: String) {
            for node in nodes {
                keys.append(prefix + node.name)
                if case .section(let name, let children) = node { visit(children, prefix + name + ".") }
            }
        }
        visit(ConfigSchema.root, "")
        return keys
    }

    /// For an unknown `TOKENBRIDGE_*` variable.
    static func message(variable: String, known: [String]) -> String {
        let prefix = ConfigSchema.variablePrefix
        let stripped = known.map { String($0.dropFirst(prefix.count)) }
        if let close = KeySuggestion.closest(to: String(variable.dropFirst(prefix.count)), among: stripped) {
            return "unknown variable; did you mean \(prefix)\(close)?"
        }
        return "unknown variable; every TOKENBRIDGE_* name must be a configuration key (see check-config)"
    }
}
