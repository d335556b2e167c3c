import BridgeCore
import WebServer

extension HTTPIngress {
    /// `GET /health`: readiness of each dependency; 503 while the model server (or another
    /// dependency, such as the broker) is unreachable.
    func reportHealth(_ context: RouteContext) {
        let health = self.health
        let pipeline = self.pipeline
        let dependencies = self.dependencies
        Task {
            let report = await health.report()
            let others = dependencies.map { ($0.healthName, $0.healthStatus()) }
            let allUp = report.problem == nil && others.allSatisfy { $0.1.isUp }
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("status")
            writer.string(allUp ? "ok" : "degraded")
            writer.key("checks")
            writer.beginObject()
            writer.key("llm")
            writer.beginObject()
            writer.key("status")
            writer.string(report.problem == nil ? "up" : "down")
            if let problem = report.problem {
                writer.key("error")
                writer.string(problem)
            }
            writer.key("latency_ms")
            let milliseconds = Double(report.latency.components.seconds) * 1000
                + Double(report.latency.components.attoseconds) / 1e15
            writer.double((milliseconds * 1000).rounded() / 1000)
            writer.endObject()
            writer.key("pipeline")
            writer.beginObject()
            writer.key("status")
            writer.string("up")
            writer.key("active_streams")
            writer.int(pipeline.activeCount)
            writer.key("max_concurrent_streams")
            writer.int(pipeline.configuration.maxConcurrentStreams)
            writer.endObject()
            for (name, status) in others {
                writer.key(name)
                writer.beginObject()
                writer.key("status")
                writer.string(status.isUp ? "up" : "down")
                for (key, value) in status.details {
                    writer.key(key)
                    writer.value(value)
                }
                writer.endObject()
            }
            writer.endObject()
            writer.endObject()
            context.respondJSON(status: allUp ? 200 : 503, writer.bytes)
        }
    }

    /// `GET /metrics`: Prometheus text.
    func reportMetrics(_ context: RouteContext) {
        var metrics = MetricsText()
        pipeline.writeMetrics(to: &metrics)
        for source in metricsSources { source.writeMetrics(to: &metrics) }
        context.respond(HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", text: metrics.text))
    }

    /// `GET /v1/models`: the model server's list, or the configured model when it cannot say.
    func listModels(_ context: RouteContext) {
        let client = self.client
        let configured = pipeline.configuration.defaultModel
        Task {
            var names: [String]
            switch await client.models() {
            case .success(let listed): names = listed
            case .failure: names = []
            }
            if !names.contains(configured) { names.insert(configured, at: 0) }
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("object")
            writer.string("list")
            writer.key("data")
            writer.beginArray()
            for name in names {
                writer.beginObject()
                writer.key("id")
                writer.string(name)
                writer.key("object")
                writer.string("model")
                writer.key("created")
                writer.int(0)
                writer.key("owned_by")
                writer.string("tokenbridge")
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
            context.respondJSON(writer.bytes)
        }
    }
}
