import BridgeCore
import WebServer

extension HTTPIngress {
    /// `POST /api/execute` `{"text", "channel"}`, the Centrifugo AI example's backend: answers `{}`
    /// at once and streams the answer into `channel` as `{"text": …, "done": false}` messages then
    /// `{"done": true}` (on the embedded channel server and/or an external Centrifugo, per
    /// `sinks.default`). The example's page subscribes to `channel` before posting.
    func execute(_ context: RouteContext) {
        guard compatAuthorized(context) else { return }
        guard let textChannelSinks else {
            context.respond(
                ErrorResponse.make(
                    status: 503, message: "No channel sink is set up (sinks.default names neither websocket nor centrifugo).",
                    code: "sink_unavailable"))
            return
        }
        let command: (text: String, channel: String)
        let chat: ChatRequest
        do {
            command = try Self.executeCommand(context.request.body)
            var message = JSONObject()
            message["role"] = .string("user")
            message["content"] = .string(command.text)
            var body = JSONObject()
            body["messages"] = .array([.object(message)])
            chat = try ChatRequest.parse(.object(body))
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        // A stream's own channel is the stream's: these messages would start it over for its readers.
        let prefix = configuration.channelPrefix
        if !prefix.isEmpty, command.channel.hasPrefix(prefix) {
            let owner = String(command.channel.dropFirst(prefix.count))
            if pipeline.run(uid: owner) != nil || pipeline.journal.result(of: owner) != nil {
                context.respond(
                    ErrorResponse.make(
                        status: 409, message: "'\(command.channel)' is the channel of stream '\(owner)'; name another channel.",
                        param: "channel", code: "channel_taken"))
                return
            }
        }
        let uid = StreamID.generate()
        var request = chat
        request.uid = uid
        do {
            _ = try pipeline.start(request, sinks: textChannelSinks(command.channel, uid))
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        context.respondJSON(Array("{}".utf8), headers: [("x-stream-id", uid)])
    }

    private static func executeCommand(_ bytes: [UInt8]) throws(RequestError) -> (text: String, channel: String) {
        guard let value = try? JSONParser.parse(bytes), let object = value.objectValue else {
            throw RequestError(.invalid, "The body must be a JSON object {\"text\", \"channel\"}.", code: "invalid_json")
        }
        guard let text = object["text"]?.stringValue, !text.isEmpty else {
            throw RequestError(.invalid, "'text' must be a non-empty string.", param: "text", code: "invalid_value")
        }
        guard let channel = object["channel"]?.stringValue, (1...255).contains(channel.utf8.count),
            channel.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw RequestError(
                .invalid, "'channel' must be a channel name: 1-255 printable ASCII characters.", param: "channel",
                code: "invalid_value")
        }
        return (text, channel)
    }
}
