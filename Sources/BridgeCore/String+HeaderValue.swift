extension String {
    /// The text without leading and trailing spaces and tabs: the optional whitespace around an
    /// HTTP header value (RFC 9110, OWS).
    public func trimmingHeaderWhitespace() -> String {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice.removeFirst() }
        while slice.last == " " || slice.last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
