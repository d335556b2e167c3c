import BridgeCore
import Logging
import WebServer

/// The HTTP API: routes requests to the pipeline and the utility endpoints, with the checks every
/// route shares (method, API key, CORS).
public final class HTTPIngress: HTTPHandler {
    typealias Action = @Sendable (RouteContext) -> Void

    let configuration: HTTPIngressConfiguration
    let pipeline: Pipeline
    let client: any LLMClient
    let logger: Logger
    let health: HealthCheck
    /// Reported by `/health` beside the model server; any of them down makes it answer 503.
    let dependencies: [any DependencyHealth]
    /// Sinks each stream gets besides the caller's own response: the defaults, or what it names.
    let sinks: SinkCatalog
    /// What `/metrics` reports, besides the pipeline.
    let metricsSources: [any MetricsSource]
    /// Sinks that publish a stream into a named channel as the Centrifugo AI example's messages
    /// (`POST /api/execute`); nil when no channel sink is set up.
    public typealias TextChannelSinks = @Sendable (_ channel: String, _ uid: String) -> [any EventSink]
    let textChannelSinks: TextChannelSinks?
    private let cors: CORSPolicy

    public init(
        configuration: HTTPIngressConfiguration, pipeline: Pipeline, client: any LLMClient,
        dependencies: [any DependencyHealth] = [], sinks: SinkCatalog = .none,
        metricsSources: [any MetricsSource] = [], textChannelSinks: TextChannelSinks? = nil, logger: Logger
    ) {
        self.textChannelSinks = textChannelSinks
        self.sinks = sinks
        self.metricsSources = metricsSources
        self.configuration = configuration
        self.pipeline = pipeline
        self.client = client
        self.dependencies = dependencies
        self.logger = logger
        self.health = HealthCheck(client: client)
        self.cors = CORSPolicy(allowedOrigins: configuration.allowedOrigins)
    }

    /// The route table: path, then method.
    private func methods(for path: String) -> [String: Action]? {
        switch path {
        case "/v1/chat/completions": return ["POST": chatCompletions]
        case "/v1/models": return ["GET": listModels]
        case "/ping": return ["GET": { $0.respond(HTTPResponse(status: 200, text: "pong")) }]
        case "/health": return ["GET": reportHealth]
        case "/metrics": return ["GET": reportMetrics]
        case "/api/stats": return ["GET": reportStats]
        case "/api/execute": return ["POST": execute]
        case "/v1/chat/response": return ["GET": compatChatResponse]
        case "/chat": return ["POST": compatChat]
        case "/test": return ["GET": compatModelTest]
        case "/ask": return ["POST": compatAsk]
        case _ where path.hasPrefix("/stream/"): return compatSessionStreamRoutes(for: path)
        default: return streamRoutes(for: path)
        }
    }

    public func handle(_ request: HTTPRequest, responder: HTTPResponder) -> HTTPRouteDecision {
        let methods = methods(for: request.path)
        let isAPI = request.path.hasPrefix("/v1/") || methods != nil
        if request.method == "OPTIONS", isAPI || request.path == "/v1" {
            responder.respond(cors.preflight(request))
            return .handled
        }
        let context = RouteContext(request: request, responder: responder, commonHeaders: cors.headers(for: request))
        guard let methods else {
            guard isAPI else { return .notARoute }
            context.respond(ErrorResponse.make(status: 404, message: "Unknown route \(request.path).", code: "not_found"))
            return .handled
        }
        guard let action = methods[request.method] ?? (request.method == "HEAD" ? methods["GET"] : nil) else {
            let allowed = methods.keys.sorted().joined(separator: ", ")
            context.respond(
                ErrorResponse.make(
                    status: 405, message: "Method \(request.method) is not allowed on \(request.path); use \(allowed).",
                    code: "method_not_allowed", headers: [("allow", allowed)]))
            return .handled
        }
        if request.path.hasPrefix("/v1/"), !isAuthorized(request) {
            context.respond(
                ErrorResponse.make(
                    status: 401, message: "Missing or invalid API key: send 'Authorization: Bearer <key>'.",
                    code: "invalid_api_key", headers: [("www-authenticate", "Bearer")]))
            return .handled
        }
        action(context)
        return .handled
    }

    public func errorResponse(status: Int, message: String, request: HTTPRequest?) -> HTTPResponse {
        var response = ErrorResponse.make(status: status, message: message, code: ErrorResponse.code(for: status))
        if let request { response.head.headers += cors.headers(for: request) }
        return response
    }

    /// `server.api_keys`: true when none are set or the request's Bearer key is one of them.
    func isAuthorized(_ request: HTTPRequest) -> Bool {
        guard !configuration.apiKeys.isEmpty else { return true }
        guard let header = request.header("authorization") else { return false }
        let prefix = "bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else { return false }
        let key = String(header.dropFirst(prefix.count)).trimmingHeaderWhitespace()
        return configuration.apiKeys.contains { constantTimeEquals($0, key) }
    }
}

/// Compares secrets without an early exit, so response timing does not reveal a key's prefix.
func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    let left = Array(lhs.utf8)
    let right = Array(rhs.utf8)
    var difference = UInt8(truncatingIfNeeded: left.count ^ right.count)
    for index in 0..<max(left.count, right.count) {
        let a = index < left.count ? left[index] : 0
        let b = index < right.count ? right[index] : 0
        difference |= a ^ b
    }
    return difference == 0
}
