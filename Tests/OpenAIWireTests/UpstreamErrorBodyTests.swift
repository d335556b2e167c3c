import BridgeCore
import OpenAIWire
import Testing

@Suite("UpstreamErrorBody")
struct UpstreamErrorBodyTests {
    private func body(_ text: String) -> UpstreamErrorBody { UpstreamErrorBody(bytes: Array(text.utf8)) }

    @Test("OpenAI's error object, with type and code")
    func openAI() {
        let parsed = body(
            #"{"error":{"message":"Incorrect API key provided: sk-abc.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#)
        #expect(parsed == UpstreamErrorBody(message: "Incorrect API key provided: sk-abc.", type: "invalid_request_error", code: "invalid_api_key"))
    }

    @Test("vLLM's numeric code and flat body; Ollama's string error")
    func vLLMAndOllama() {
        #expect(
            body(#"{"error":{"message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}}"#)
                == UpstreamErrorBody(message: "The model `x` does not exist.", type: "NotFoundError", code: "404"))
        #expect(
            body(#"{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}"#)
                == UpstreamErrorBody(message: "bad", type: "BadRequestError", code: "400"))
        #expect(body(#"{"error":"model \"llama9\" not found, try pulling it first"}"#).message
            == #"model "llama9" not found, try pulling it first"#)
    }

    @Test("FastAPI detail: a string, or validation errors with their location")
    func fastAPI() {
        #expect(body(#"{"detail":"Not authenticated"}"#).message == "Not authenticated")
        let validation = #"{"detail":[{"type":"missing","loc":["body","messages"],"msg":"Field required","input":{}},{"loc":["body",0],"msg":"bad"}]}"#
        #expect(body(validation).message == "body.messages: Field required; body.0: bad")
    }

    @Test("a one-element array of errors, as Gemini's endpoint sends")
    func array() {
        #expect(body(#"[{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}]"#).message == "API key not valid.")
    }

    @Test("plain text and HTML are trimmed and cut")
    func plainText() {
        #expect(body("  Bad Gateway\n").message == "Bad Gateway")
        let page = "<html><body>" + String(repeating: "é", count: 1000) + "</body></html>"
        let message = body(page).message
        #expect(message.count == UpstreamErrorBody.maximumMessageLength + 1)
        #expect(message.hasPrefix("<html><body>éé"))
        #expect(message.hasSuffix("…"))
        #expect(body(#"{"unrelated":true}"#).message == #"{"unrelated":true}"#)
    }

    @Test("an empty body still gives a failure with a message")
    func empty() {
        #expect(body("").message == "")
        #expect(UpstreamErrorBody.message(from: [UInt8]()) == "(empty response body)")
        let failure = body("").failure(status: 503, retryAfter: 2)
        #expect(failure.code == .upstreamError)
        #expect(failure.upstreamStatus == 503)
        #expect(failure.retryAfter == 2)
        #expect(failure.message.contains("503"))
    }
}
