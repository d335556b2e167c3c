import CCurl

// MARK: - libcurl callbacks (loop thread, inside curl_multi_socket_action)

// File-scope functions with the exact C signature convert to C function pointers. The user pointer
// is the transfer, unretained: the loop's transfer table keeps it alive for as long as the handle is
// in the multi, and no callback runs once the handle has been removed.

/// CURLOPT_WRITEFUNCTION: body bytes. Returning less than given aborts the transfer.
func curlWriteCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?
) -> Int {
    guard let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
}

/// CURLOPT_HEADERFUNCTION: one whole header line per call (status lines and blank lines included).
func curlHeaderCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?
) -> Int {
    guard let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    return transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
}

extension CurlTransfer {
    func receiveHeaderLine(_ line: UnsafeRawBufferPointer) -> Int {
        // An aborted transfer takes nothing more; the short count makes libcurl stop it right here.
        guard abortReason == nil else { return 0 }
        if let head = headParser.consume(line) {
            delegate.curlTransfer(id, didReceiveHead: head.status, headers: head.headers)
        }
        return line.count
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard abortReason == nil else { return 0 }
        deliverHeadIfMissing()
        delegate.curlTransfer(id, didReceive: bytes)
        return bytes.count
    }

    /// Keeps the "head before body" promise for a response whose head never completed normally.
    func deliverHeadIfMissing() {
        guard !headParser.isComplete else { return }
        var status = 0
        _ = tb_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let head = headParser.forceComplete(status: status)
        delegate.curlTransfer(id, didReceiveHead: head.status, headers: head.headers)
    }
}
