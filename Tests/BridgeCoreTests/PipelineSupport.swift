import Logging
import Synchronization

@testable import BridgeCore

/// A model the test drives by hand: it records calls and lets the test push outputs.
final class ScriptedModel: LLMClient {
    final class Call: LLMCall {
        let receiver: any LLMReceiver
        let request: UpstreamRequest
        let cancelled = Atomic<Bool>(false)
        init(receiver: any LLMReceiver, request: UpstreamRequest) {
            self.receiver = receiver
            self.request = request
        }
        func cancel() { cancelled.store(true, ordering: .relaxed) }
    }

    let calls = Mutex<[Call]>([])

    func start(_ request: UpstreamRequest, receiver: any LLMReceiver) -> any LLMCall {
        let call = Call(receiver: receiver, request: request)
        calls.withLock { $0.append(call) }
        return call
    }

    func probe() async -> String? { nil }
    func models() async -> Result<[String], StreamFailure> { .success(["scripted"]) }

    var last: Call? { calls.withLock { $0.last } }
}

/// Records what a sink was given.
final class RecordingSink: EventSink {
    let name = "recording"
    let events = Mutex<[StreamEvent]>([])
    func deliver(_ event: StreamEvent) { events.withLock { $0.append(event) } }
    var all: [StreamEvent] { events.withLock { $0 } }
}

/// Records the runs of events a sink was handed together.
final class BatchRecordingSink: EventSink {
    let name = "batch-recording"
    let batches = Mutex<[[StreamEvent]]>([])
    func deliver(_ event: StreamEvent) { deliver(contentsOf: [event]) }
    func deliver(contentsOf events: [StreamEvent]) { batches.withLock { $0.append(events) } }
    var all: [[StreamEvent]] { batches.withLock { $0 } }
}

func chat(uid: String? = nil, model: String? = nil) -> ChatRequest {
    var body = JSONObject()
    body["messages"] = [["role": "user", "content": "hello"]]
    return ChatRequest(body: body, model: model, stream: true, uid: uid, username: nil, includeUsage: false)
}

let testLogger = Logger(label: "test")
