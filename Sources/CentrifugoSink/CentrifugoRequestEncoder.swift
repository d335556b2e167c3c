import BridgeCore
import Curl

/// Publications as one HTTP request in the configured API style.
struct CentrifugoRequestEncoder: Sendable {
    let configuration: CentrifugoSinkConfiguration

    func request(_ publications: [CentrifugoPublication], channel: String) -> CurlRequest {
        let base = configuration.apiURL.hasSuffix("/") ? String(configuration.apiURL.dropLast()) : configuration.apiURL
        var headers: [(name: String, value: String)] = [("content-type", "application/json")]
        let url: String
        var body: [UInt8]
        switch configuration.style {
        case .v5:
            headers.append(("x-api-key", configuration.apiKey))
            if publications.count == 1 {
                url = base + "/publish"
                body = Self.publishParams(publications[0], channel: channel)
            } else {
                url = base + "/batch"
                var writer = JSONWriter(capacity: publications.reduce(64) { $0 + $1.data.count + 96 })
                writer.beginObject()
                writer.key("commands")
                writer.beginArray()
                for publication in publications {
                    writer.beginObject()
                    writer.key("publish")
                    writer.raw(Self.publishParams(publication, channel: channel))
                    writer.endObject()
                }
                writer.endArray()
                writer.endObject()
                body = writer.bytes
            }
        case .legacy:
            // One command per line: the v3/v4 API answers each on its own line, in order.
            headers.append(("authorization", "apikey \(configuration.apiKey)"))
            url = base
            body = []
            for (index, publication) in publications.enumerated() {
                if index > 0 { body.append(UInt8(ascii: "\n")) }
                var writer = JSONWriter(capacity: publication.data.count + 128)
                writer.beginObject()
                writer.key("method")
                writer.string("publish")
                writer.key("params")
                writer.raw(Self.publishParams(publication, channel: channel))
                writer.endObject()
                body += writer.bytes
            }
        }
        return CurlRequest(
            url: url, method: "POST", headers: headers, body: body, connectTimeout: min(configuration.timeout, .seconds(5)),
            totalTimeout: configuration.timeout)
    }

    private static func publishParams(_ publication: CentrifugoPublication, channel: String) -> [UInt8] {
        var writer = JSONWriter(capacity: publication.data.count + channel.utf8.count + 96)
        writer.beginObject()
        writer.key("channel")
        writer.string(channel)
        writer.key("data")
        writer.raw(publication.data)
        writer.key("idempotency_key")
        writer.string(publication.idempotencyKey)
        writer.endObject()
        return writer.bytes
    }
}
