import CLibWebSockets

extension ServerLoop {
    private static let methodTokens: [(lws_token_indexes, String)] = [
        (WSI_TOKEN_GET_URI, "GET"), (WSI_TOKEN_POST_URI, "POST"), (WSI_TOKEN_OPTIONS_URI, "OPTIONS"),
        (WSI_TOKEN_PUT_URI, "PUT"), (WSI_TOKEN_PATCH_URI, "PATCH"), (WSI_TOKEN_DELETE_URI, "DELETE"),
        (WSI_TOKEN_HEAD_URI, "HEAD"),
    ]

    /// Header tokens lws parses, with their lower-case names; computed once.
    private static let headerTokens: [(lws_token_indexes, String)] = {
        var tokens: [(lws_token_indexes, String)] = []
        for index in 0..<Int(WSI_TOKEN_COUNT.rawValue) {
            let token = lws_token_indexes(rawValue: UInt32(index))
            guard let name = lws_token_to_string(token) else { continue }
            let text = String(cString: name)
            // Only real header names end with ':'; the rest are request-line and method tokens.
            guard text.hasSuffix(":"), !text.hasPrefix(":") else { continue }
            tokens.append((token, String(text.dropLast()).lowercased()))
        }
        return tokens
    }()

    /// Copies method, path, query, headers and peer out of lws; returns the header section's size.
    func readHead(into exchange: Exchange, uri: UnsafeMutableRawPointer?) -> Int {
        let wsi = exchange.wsi
        var total = 0
        for (token, method) in Self.methodTokens where lws_hdr_total_length(wsi, token) > 0 {
            exchange.method = method
            break
        }
        if let uri {
            exchange.path = String(cString: uri.assumingMemoryBound(to: CChar.self))
        }
        total += exchange.path.utf8.count
        exchange.query = readQuery(wsi)
        for (token, name) in Self.headerTokens {
            let length = Int(lws_hdr_total_length(wsi, token))
            guard length > 0, let value = copyHeader(length: length, { lws_hdr_copy(wsi, $0, $1, token) }) else { continue }
            total += name.utf8.count + length + 4
            exchange.headers.append((name, value))
        }
        for name in configuration.customHeaders {
            let key = name + ":"
            let length = Int(lws_hdr_custom_length(wsi, key, Int32(key.utf8.count)))
            guard length > 0,
                let value = copyHeader(length: length, { lws_hdr_custom_copy(wsi, $0, $1, key, Int32(key.utf8.count)) })
            else { continue }
            total += key.utf8.count + length + 3
            exchange.headers.append((name, value))
        }
        return total
    }

    private func copyHeader(length: Int, _ copy: (UnsafeMutablePointer<CChar>, Int32) -> Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: length + 1)
        let copied = buffer.withUnsafeMutableBufferPointer { pointer -> Int32 in
            guard let base = pointer.baseAddress else { return -1 }
            return copy(base, Int32(pointer.count))
        }
        guard copied >= 0 else { return nil }
        return String(decoding: buffer.prefix(Int(copied)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func readQuery(_ wsi: OpaquePointer) -> [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        var index: Int32 = 0
        while true {
            let length = Int(lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, index))
            guard length > 0 else { break }
            let fragmentIndex = index
            guard
                let fragment = copyHeader(length: length, { lws_hdr_copy_fragment(wsi, $0, $1, WSI_TOKEN_HTTP_URI_ARGS, fragmentIndex) })
            else { break }
            if let equals = fragment.firstIndex(of: "=") {
                items.append((String(fragment[..<equals]), String(fragment[fragment.index(after: equals)...])))
            } else {
                items.append((fragment, ""))
            }
            index += 1
        }
        return items
    }
}
