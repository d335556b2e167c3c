/// Answers requests. Called on the server thread: it must return quickly and never block; slow
/// work goes elsewhere and answers later through the responder, which any thread may use.
public protocol HTTPHandler: Sendable {
    /// Answers the request, or declines it so the server looks for a static file.
    func handle(_ request: HTTPRequest, responder: HTTPResponder) -> HTTPRouteDecision

    /// The answer when no handler and no static file matched (or a request was refused by the
    /// server itself: oversized body or headers), so every error has the application's shape.
    func errorResponse(status: Int, message: String, request: HTTPRequest?) -> HTTPResponse
}

public enum HTTPRouteDecision: Sendable {
    case handled
    /// Not a route: serve a file from the web root, or answer 404.
    case notARoute
}
