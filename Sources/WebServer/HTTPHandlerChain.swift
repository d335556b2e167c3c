/// Several handlers on one server: each request goes to the first that takes it. Errors the
/// server raises itself are shaped by the first handler.
public struct HTTPHandlerChain: HTTPHandler {
    public let handlers: [any HTTPHandler]

    public init(_ handlers: [any HTTPHandler]) {
        precondition(!handlers.isEmpty, "a chain needs at least one handler")
        self.handlers = handlers
    }

    public func handle(_ request: HTTPRequest, responder: HTTPResponder) -> HTTPRouteDecision {
        for handler in handlers where handler.handle(request, responder: responder) == .handled { return .handled }
        return .notARoute
    }

    public func errorResponse(status: Int, message: String, request: HTTPRequest?) -> HTTPResponse {
        handlers[0].errorResponse(status: status, message: message, request: request)
    }
}
