extension ConfigLoader {
    /// Applies environment overrides: chatgpt-queue's names, then `TOKENBRIDGE_*`, which win.
    ///
    /// A legacy variable set to the empty string counts as unset, as it did in chatgpt-queue (Compose
    /// files pass `${OPENAI_URL}` through even when it is undefined). A `TOKENBRIDGE_*` variable set
    /// to the empty string means the empty value, so a default can be cleared.
    mutating func apply(environment: [String: String], alsoAccepted: Set<String>) {
        let entries = ConfigSchema.entries
        for entry in entries {
            let variable = entry.variable
            if let value = environment[variable] {
                assign(entry.field, key: entry.key, input: .scalar(value), source: .environment(variable: variable))
            } else if let legacy = entry.field.legacyVariable, let value = environment[legacy], !value.isEmpty {
                assign(entry.field, key: entry.key, input: .scalar(value), source: .environment(variable: legacy))
            }
        }
        let known = entries.map(\.variable)
        let accepted = Set(known).union(alsoAccepted)
        for name in environment.keys.sorted()
        where name.hasPrefix(ConfigSchema.variablePrefix) && !accepted.contains(name) {
            report(nil, .environment(variable: name), ConfigUnknownKey.message(variable: name, known: known))
        }
    }
}
