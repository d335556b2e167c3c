import BridgeCore

/// Reads `delta.tool_calls[]` entries and gives each the index its call is assembled under.
///
/// OpenAI sends an explicit `index`; some servers leave it out. Then a new `id` starts a new call
/// and a piece without an id continues the last one, so index-less pieces still join correctly.
struct ToolCallIndexer: Sendable {
    private var indexByID: [(id: String, index: Int)] = []
    private var nextIndex = 0
    private var lastIndex: Int?

    /// The piece in `entry`, or nil when the entry is not an object or carries nothing.
    mutating func delta(from entry: JSONValue) -> ToolCallDelta? {
        guard let call = entry.objectValue else { return nil }
        let function = call["function"]?.objectValue
        let id = Self.nonEmpty(call["id"])
        let name = Self.nonEmpty(function?["name"])
        let arguments: String
        switch function?["arguments"] {
        case .string(let text): arguments = text
        // Some servers send the arguments as a JSON object instead of its text.
        case .some(.object(let object)): arguments = JSONValue.object(object).jsonString
        default: arguments = ""
        }
        guard id != nil || name != nil || !arguments.isEmpty else { return nil }
        let index = self.index(explicit: call["index"]?.intValue, id: id)
        return ToolCallDelta(index: index, id: id, name: name, arguments: arguments)
    }

    private mutating func index(explicit: Int?, id: String?) -> Int {
        let index: Int
        if let explicit {
            index = explicit
        } else if let id {
            index = indexByID.first(where: { $0.id == id })?.index ?? nextIndex
        } else {
            index = lastIndex ?? nextIndex
        }
        if let id, !indexByID.contains(where: { $0.id == id }) { indexByID.append((id, index)) }
        nextIndex = max(nextIndex, index + 1)
        lastIndex = index
        return index
    }

    private static func nonEmpty(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue, !text.isEmpty else { return nil }
        return text
    }
}
