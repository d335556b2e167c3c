import CCurl

/// Owns the libcurl multi handle and the sockets watcher it reports to.
final class MultiHandle: @unchecked Sendable {
    // @unchecked: `raw` is used only on the loop thread; other threads only call `wakeup`, which
    // writes the watcher's eventfd. Cleanup waits for deinit (after the loop thread ended and
    // every CurlMultiLoop reference is gone) so a late wakeup from another thread never hits a
    // closed descriptor.
    let raw: UnsafeMutableRawPointer
    /// Outlives `raw`: curl_multi_cleanup in deinit still reports sockets it removes.
    let watcher: SocketWatcher

    /// Idle keep-alive connections kept by the multi's connection cache. libcurl's default (4x the
    /// number of easy handles, but only grown when handles are added) thrashes when a thousand
    /// streams start together; 2048 keeps one per concurrent stream with room to spare.
    static let maxCachedConnections = 2048

    init() throws(CurlError) {
        guard CurlGlobal.initCode == CURLE_OK.rawValue else {
            throw .setupFailed("curl_global_init", code: Int32(bitPattern: CurlGlobal.initCode))
        }
        let watcher = try SocketWatcher()
        guard let raw = curl_multi_init() else { throw .setupFailed("curl_multi_init") }
        self.raw = raw
        self.watcher = watcher
        _ = tb_curl_multi_setopt_long(raw, CURLMOPT_MAXCONNECTS, Self.maxCachedConnections)
        watcher.attach(to: raw)
    }

    /// Makes the loop's wait in progress (or the next one) return at once. Any thread.
    func wakeup() {
        watcher.wakeup()
    }

    deinit {
        curl_multi_cleanup(raw)
    }
}

/// Process-wide libcurl initialisation, done once: Swift runs a global's initialiser exactly once,
/// thread-safely, on first use (before any loop thread exists, since the first MultiHandle asks).
enum CurlGlobal {
    static let initCode: UInt32 = curl_global_init(tb_curl_global_all()).rawValue
}
