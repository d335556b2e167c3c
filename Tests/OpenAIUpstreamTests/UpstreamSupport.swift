import BridgeCore
import Curl
import Foundation
import HTTPIngress
import Logging
import OpenAIUpstream
import SimulatedModel
import Synchronization
import WebServer

/// A real OpenAI-compatible server on loopback: the simulated model behind the HTTP ingress, the
/// same thing `tokenbridge mock-llm` runs.
final class LoopbackModelServer: Sendable {
    let server: WebServer
    let port: Int
    let pipeline: Pipeline

    init() throws {
        let logger = Logger(label: "mock")
        let client = SimulatedLLMClient(configuration: .init(tokens: 20, tokensPerSecond: 0))
        let pipeline = Pipeline(client: client, configuration: .init(defaultModel: "sim"), logger: logger)
        self.pipeline = pipeline
        let ingress = HTTPIngress(configuration: .init(), pipeline: pipeline, client: client, logger: logger)
        var lastError: (any Error)?
        for _ in 0..<20 {
            let port = Int.random(in: 20000..<60000)
            let server = WebServer(
                configuration: WebServerConfiguration(host: "127.0.0.1", port: port, webRoot: nil), handler: ingress,
                logger: logger)
            do {
                try server.start()
                self.server = server
                self.port = port
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? CurlError(kind: .transport, message: "no free port")
    }

    var url: String { "http://127.0.0.1:\(port)/v1" }

    deinit { server.stop(flushTimeout: .zero) }
}

/// Collects what a model call reports and lets a test await its end.
final class CollectingReceiver: LLMReceiver {
    private struct State {
        var outputs: [LLMOutput] = []
        var finished = false
        var failure: StreamFailure?
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func llmDidProduce(_ output: LLMOutput) { state.withLock { $0.outputs.append(output) } }

    func llmDidFinish(_ failure: StreamFailure?) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            state.failure = failure
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func finished() async -> (outputs: [LLMOutput], failure: StreamFailure?) {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.finished { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
        return state.withLock { ($0.outputs, $0.failure) }
    }

    var text: String {
        state.withLock { state in
            state.outputs.compactMap { if case .text(let piece) = $0 { piece } else { nil } }.joined()
        }
    }
}

func request(_ extra: JSONValue = [:], model: String = "sim") -> UpstreamRequest {
    var body = JSONObject()
    body["messages"] = [["role": "user", "content": "tell me something"]]
    for (key, value) in extra.objectValue ?? JSONObject() { body[key] = value }
    return UpstreamRequest(body: body, model: model, uid: StreamID.generate())
}
