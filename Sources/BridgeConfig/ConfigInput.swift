import Foundation

/// One raw value for a key, as YAML or an environment variable gave it, before it is typed.
enum ConfigInput: Equatable {
    /// YAML `~`, `null`, or a key with nothing after the colon.
    case null
    /// A single word or number; environment variables are always this.
    case scalar(String)
    /// A YAML sequence of plain values.
    case list([String])

    /// The single value this input holds; `what` names the expected shape for the message.
    func scalarText(expecting what: String) throws -> String {
        switch self {
        case .scalar(let text): return text.trimmingCharacters(in: .whitespaces)
        case .null: throw ConfigValueError("needs a value: \(what)")
        case .list: throw ConfigValueError("expected \(what), got a list")
        }
    }

    /// Text of a string key; nothing reads as the empty string, so `api_key:` clears a key.
    func stringValue() throws -> String {
        switch self {
        case .scalar(let text): return text
        case .null: return ""
        case .list: throw ConfigValueError("expected a single string, got a list")
        }
    }

    /// Items of a list. A scalar is read comma-separated, which is how environment variables write
    /// lists; empty items are dropped so `a,,b` and a trailing comma do no harm.
    func listItems() -> [String] {
        switch self {
        case .null: return []
        case .list(let items): return items
        case .scalar(let text):
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    func integer<Integer: FixedWidthInteger>(_: Integer.Type) throws -> Integer {
        let text = try scalarText(expecting: "a whole number")
        guard let value = Integer(text) else {
            let shape = Integer.isSigned ? "a whole number" : "a whole number, 0 or more"
            throw ConfigValueError("expected \(shape), got '\(text)'")
        }
        return value
    }

    func number() throws -> Double {
        let text = try scalarText(expecting: "a number")
        guard let value = Double(text), value.isFinite else {
            throw ConfigValueError("expected a number, got '\(text)'")
        }
        return value
    }

    /// YAML 1.1 and shell habits both occur in the wild, so the common spellings are all accepted.
    func boolean() throws -> Bool {
        let text = try scalarText(expecting: "true or false")
        switch text.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw ConfigValueError("expected true or false (or yes/no, 1/0), got '\(text)'")
        }
    }

    func choice<Choice: ConfigChoice>(_: Choice.Type) throws -> Choice {
        let text = try scalarText(expecting: "one of \(Choice.spelledOut)")
        guard let value = Choice.parse(text) else {
            throw ConfigValueError("'\(text)' is not one of \(Choice.spelledOut)")
        }
        return value
    }
}
