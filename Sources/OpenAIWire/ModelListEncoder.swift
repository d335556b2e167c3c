import BridgeCore

/// `GET /v1/models`: `{"object":"list","data":[{"id","object":"model","created","owned_by"}]}`.
public enum ModelListEncoder {
    /// The list body for `models`, all with the same `owned_by` and `created`.
    public static func encode(_ models: [String], ownedBy: String = "tokenbridge", created: Int? = nil) -> [UInt8] {
        let created = created ?? UnixTime.now()
        var writer = JSONWriter(capacity: 32 + models.count * 80)
        writer.beginObject()
        writer.key("object")
        writer.string("list")
        writer.key("data")
        writer.beginArray()
        for model in models {
            writer.beginObject()
            writer.key("id")
            writer.string(model)
            writer.key("object")
            writer.string("model")
            writer.key("created")
            writer.int(created)
            writer.key("owned_by")
            writer.string(ownedBy)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
