import BridgeCore

extension Usage {
    static let countKeys: Set<String> = ["prompt_tokens", "completion_tokens", "total_tokens"]

    /// Reads an OpenAI `usage` object; nil for null, a non-object, or one with no token counts.
    /// Every other member (`prompt_tokens_details`, DeepSeek's `prompt_cache_hit_tokens`...)
    /// is kept in `details`, null members left out.
    init?(openAI value: JSONValue?) {
        guard let object = value?.objectValue else { return nil }
        let prompt = object["prompt_tokens"]?.intValue
        let completion = object["completion_tokens"]?.intValue
        guard prompt != nil || completion != nil else { return nil }
        var details = JSONObject()
        for (key, member) in object where !Self.countKeys.contains(key) && !member.isNull {
            details[key] = member
        }
        self.init(
            promptTokens: prompt ?? 0, completionTokens: completion ?? 0,
            totalTokens: object["total_tokens"]?.intValue, details: details)
    }
}
