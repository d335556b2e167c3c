import CLibWebSockets
import Foundation

extension ServerLoop {
    private static let mimeTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8", "json": "application/json",
        "svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
        "ico": "image/x-icon", "txt": "text/plain; charset=utf-8", "map": "application/json",
        "woff2": "font/woff2", "webp": "image/webp", "wasm": "application/wasm",
    ]

    /// Serves `path` from the web root if such a regular file exists; false otherwise.
    func serveStaticFile(_ exchange: Exchange, request: HTTPRequest) -> Bool {
        guard let root = configuration.webRoot, let file = Self.resolve(path: request.path, root: root) else { return false }
        let type = Self.mimeTypes[(file as NSString).pathExtension.lowercased()] ?? "application/octet-stream"
        // lws now owns the transaction until HTTP_FILE_COMPLETION.
        exchanges[exchange.id] = nil
        let result = lws_serve_http_file(exchange.wsi, file, type, nil, 0)
        if result < 0 || (result > 0 && lws_http_transaction_completed(exchange.wsi) != 0) {
            // The connection is unusable; lws closes it when the service loop sees the error.
            lws_set_timeout(exchange.wsi, PENDING_TIMEOUT_HTTP_CONTENT, LWS_TO_KILL_ASYNC)
        }
        return true
    }

    /// Maps a URL path to a regular file under `root`, refusing anything that climbs out of it.
    static func resolve(path: String, root: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !segments.contains(where: { $0 == ".." || $0.hasPrefix(".") }) else { return nil }
        var candidate = ([root] + segments.map(String.init)).joined(separator: "/")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue {
            candidate += "/index.html"
            guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue else {
                return nil
            }
        }
        return candidate
    }
}
