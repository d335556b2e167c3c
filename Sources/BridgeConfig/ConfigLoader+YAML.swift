import Yams

extension ConfigLoader {
    /// Applies one YAML document; `path` names it in problems.
    mutating func apply(yaml text: String, path: String) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            report(nil, .file(path: path, line: nil, column: nil), "is not valid YAML: \(error)")
            return
        }
        // An empty file (or only comments) means "all defaults", which is legitimate.
        guard let root, !Self.isNull(root) else { return }
        guard let mapping = root.mapping else {
            report(nil, Self.source(path, root), "expected sections such as 'server:' and 'llm:' at the top level")
            return
        }
        walk(mapping, schema: ConfigSchema.root, prefix: "", path: path)
    }

    private mutating func walk(_ mapping: Node.Mapping, schema: [ConfigSchemaNode], prefix: String, path: String) {
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            let source = Self.source(path, keyNode)
            guard let name = keyNode.scalar?.string else {
                report(prefix.isEmpty ? nil : String(prefix.dropLast()), source, "keys must be plain words")
                continue
            }
            let key = prefix + name
            guard seen.insert(name).inserted else {
                report(key, source, "is given twice; keep one")
                continue
            }
            guard let node = schema.first(where: { $0.name == name }) else {
                report(key, source, ConfigUnknownKey.message(name: name, prefix: prefix, siblings: schema))
                continue
            }
            switch node {
            case .section(_, let children):
                if let inner = valueNode.mapping {
                    walk(inner, schema: children, prefix: key + ".", path: path)
                } else if !Self.isNull(valueNode) {
                    let example = children.first.map { " such as '\($0.name):'" } ?? " or {}"
                    report(key, source, "is a section; expected keys under it\(example)")
                }
            case .field(let field):
                if let input = Self.input(from: valueNode) {
                    assign(field, key: key, input: input, source: source)
                } else {
                    report(
                        key, source,
                        "expected \(field.kind), got \(valueNode.mapping == nil ? "nested lists" : "a section")")
                }
            }
        }
    }

    /// A value node as raw input; nil for shapes no key takes (mappings, lists of lists).
    private static func input(from node: Node) -> ConfigInput? {
        if let scalar = node.scalar {
            return isNull(node) ? .null : .scalar(scalar.string)
        }
        guard let sequence = node.sequence else { return nil }
        let items = sequence.compactMap { $0.scalar?.string }
        return items.count == sequence.count ? .list(items) : nil
    }

    /// Plain `~`, `null` or nothing; a quoted "null" stays a string.
    private static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private static func source(_ path: String, _ node: Node) -> ConfigSource {
        .file(path: path, line: node.mark?.line, column: node.mark?.column)
    }
}
