#if canImport(Glibc)
    import Glibc
#endif

/// The progress lines' way out: write(2) directly, since the C `stderr` global is shared mutable
/// state to Swift 6.
enum StandardError {
    static func write(line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
