import CCurl

/// One transfer, owned by the loop thread: its easy handle and everything libcurl borrows for the
/// handle's lifetime (header list, error buffer). Never leaves the loop thread.
final class CurlTransfer {
    let id: CurlTransferID
    let delegate: any CurlTransferDelegate
    let easy: UnsafeMutableRawPointer
    /// Set while waiting for `notBefore`; cleared when the handle is added to the multi.
    var notBefore: ContinuousClock.Instant?
    /// Whether the easy handle is currently added to the multi handle.
    var isAttached = false
    var deadline: ContinuousClock.Instant?
    var deadlineReason = ""
    /// Set when the transfer is being aborted (cancel, deadline). The callbacks then refuse further
    /// data, and completion reports this instead of libcurl's CURLE_WRITE_ERROR.
    var abortReason: CurlError?
    var headParser = ResponseHeadParser()

    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var released = false

    private init(id: CurlTransferID, delegate: any CurlTransferDelegate, easy: UnsafeMutableRawPointer) {
        self.id = id
        self.delegate = delegate
        self.easy = easy
        // libcurl writes up to CURL_ERROR_SIZE bytes here on failure; it must outlive the handle.
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        release()
    }

    /// Creates and configures the easy handle for `start`.
    static func make(_ start: TransferStart) -> Result<CurlTransfer, CurlError> {
        guard let easy = curl_easy_init() else { return .failure(.setupFailed("curl_easy_init")) }
        let transfer = CurlTransfer(id: start.id, delegate: start.delegate, easy: easy)
        transfer.notBefore = start.notBefore
        do {
            try transfer.configure(start.request)
        } catch {
            transfer.release()
            return .failure(error)
        }
        return .success(transfer)
    }

    /// Frees the easy handle and what it borrowed. Only after the handle left the multi handle.
    func release() {
        guard !released else { return }
        released = true
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        headerList = nil
        errorBuffer.deallocate()
    }

    /// libcurl's specific error text for the last failure (empty when it wrote none).
    var errorText: String {
        released ? "" : String(cString: errorBuffer)
    }

    /// Whether a connection to the server was up at some point (tells connect from total timeouts).
    /// A reused connection has no connect time, so bytes sent or a head received also count.
    var wasConnected: Bool {
        var connectTime: curl_off_t = 0
        var requestSize = 0
        _ = tb_curl_easy_getinfo_off_t(easy, CURLINFO_CONNECT_TIME_T, &connectTime)
        _ = tb_curl_easy_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &requestSize)
        return connectTime > 0 || requestSize > 0 || headParser.isComplete
    }

    // MARK: - Options

    private func configure(_ request: CurlRequest) throws(CurlError) {
        // The transfer table owns the transfer and removes the handle from the multi before dropping
        // it, so an unretained pointer is valid for every callback: nothing to release afterwards.
        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(tb_curl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, me), "PRIVATE")
        try check(tb_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        try check(tb_curl_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback), "WRITEFUNCTION")
        try check(tb_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me), "WRITEDATA")
        try check(tb_curl_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback), "HEADERFUNCTION")
        try check(tb_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me), "HEADERDATA")

        // Signals are process-wide and this is one thread among many: libcurl must not use them.
        try setLong(CURLOPT_NOSIGNAL, 1, "NOSIGNAL")
        // Tokens are small writes that must not wait for Nagle.
        try setLong(CURLOPT_TCP_NODELAY, 1, "TCP_NODELAY")
        // Each handle owns a receive buffer of this size for its whole life; streamed tokens are a
        // few hundred bytes, and the 16 KiB default cost 16 MB of RSS at 1000 concurrent streams.
        try setLong(CURLOPT_BUFFERSIZE, 4096, "BUFFERSIZE")
        // Streams can idle for minutes; keep NAT and load balancer state alive.
        try setLong(CURLOPT_TCP_KEEPALIVE, 1, "TCP_KEEPALIVE")
        // HTTP/1.1 keep-alive through the multi handle's connection cache; no h2 surprises.
        try setLong(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1), "HTTP_VERSION")
        // A proxy's CONNECT reply is not the server's head.
        try setLong(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1, "SUPPRESS_CONNECT_HEADERS")
        try setString(CURLOPT_PROTOCOLS_STR, "http,https", "PROTOCOLS_STR")
        try setString(CURLOPT_URL, request.url, "URL")
        // No CURLOPT_ACCEPT_ENCODING: we stream, and a compressed stream would arrive in bursts.

        if let timeout = request.connectTimeout {
            try setLong(CURLOPT_CONNECTTIMEOUT_MS, timeout.curlMilliseconds, "CONNECTTIMEOUT_MS")
        }
        if let timeout = request.totalTimeout {
            try setLong(CURLOPT_TIMEOUT_MS, timeout.curlMilliseconds, "TIMEOUT_MS")
        }
        try configureMethod(request)
        try configureHeaders(request.headers)
    }

    private func configureMethod(_ request: CurlRequest) throws(CurlError) {
        let method = request.method.uppercased()
        if method == "HEAD" {
            try setLong(CURLOPT_NOBODY, 1, "NOBODY")
            return
        }
        if method == "POST" || !request.body.isEmpty {
            // Size first: COPYPOSTFIELDS then copies exactly that many bytes (bodies may hold NULs).
            let size = curl_off_t(request.body.count)
            try check(tb_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, size), "POSTFIELDSIZE_LARGE")
            // A NULL body would make libcurl fall back to its read callback (stdin): pass a real
            // pointer even for an empty body.
            let body = request.body.isEmpty ? [0] : request.body
            let code = body.withUnsafeBytes { bytes in
                let pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress)
                return tb_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, pointer)
            }
            try check(code, "COPYPOSTFIELDS")
        }
        if method != "GET" && method != "POST" || method == "GET" && !request.body.isEmpty {
            try setString(CURLOPT_CUSTOMREQUEST, request.method, "CUSTOMREQUEST")
        }
    }

    private func configureHeaders(_ headers: [(name: String, value: String)]) throws(CurlError) {
        var lines = headers.map { header in
            // "Name:" would make libcurl drop the header; "Name;" is its syntax for an empty value.
            header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
        }
        // libcurl adds "Expect: 100-continue" to larger bodies and then waits a round trip (or 1 s)
        // before sending them; an empty "Expect:" removes it, unless the caller set one.
        if !headers.contains(where: { $0.name.lowercased() == "expect" }) {
            lines.append("Expect:")
        }
        for line in lines {
            guard let list = curl_slist_append(headerList, line) else {
                throw .setupFailed("curl_slist_append")
            }
            headerList = list
        }
        try check(tb_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")
    }

    private func setLong(_ option: CURLoption, _ value: Int, _ name: String) throws(CurlError) {
        try check(tb_curl_easy_setopt_long(easy, option, value), name)
    }

    private func setString(_ option: CURLoption, _ value: String, _ name: String) throws(CurlError) {
        // libcurl copies string options (since 7.17), so the temporary C string may go.
        try check(value.withCString { tb_curl_easy_setopt_string(easy, option, $0) }, name)
    }

    private func check(_ code: CURLcode, _ option: String) throws(CurlError) {
        guard code == CURLE_OK else {
            let text = String(cString: curl_easy_strerror(code))
            throw .setupFailed("CURLOPT_\(option): \(text)", code: Int32(bitPattern: code.rawValue))
        }
    }
}

extension Duration {
    /// Milliseconds for libcurl's *_MS options, rounded up and at least 1 (0 means "no limit" there).
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        guard seconds >= 0, self > .zero else { return 1 }
        let clamped = min(seconds, 1_000_000_000)
        let millis = Int(clamped) * 1000 + Int((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        return max(1, millis)
    }
}
