import Foundation

/// URL checks and redaction for the URL-valued keys.
enum ConfigURL {
    /// Why `text` is not a usable URL with one of `schemes`, or nil when it is.
    static func problem(in text: String, schemes: [String]) -> String? {
        let expected = schemes.map { "\($0)://" }.joined(separator: " or ")
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "'\(redactingPassword(text))' is not a URL; expected \(expected)host..."
        }
        guard schemes.contains(scheme) else {
            return "scheme '\(scheme)' is not supported here; expected \(expected)"
        }
        guard let host = components.host, !host.isEmpty else {
            return "'\(redactingPassword(text))' has no host"
        }
        return nil
    }

    /// `scheme://user:password@host/...` with the password replaced; anything else unchanged.
    ///
    /// Done on the text rather than through `URLComponents` so the rest of the URL is shown exactly
    /// as written, even when it is malformed.
    static func redactingPassword(_ text: String, with replacement: String = "<redacted>") -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let authorityEnd = text[schemeEnd.upperBound...].firstIndex { "/?#".contains($0) } ?? text.endIndex
        let authority = text[schemeEnd.upperBound..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"),
            let colon = authority[..<at].firstIndex(of: ":"),
            authority.index(after: colon) < at
        else { return text }
        return String(text[..<authority.index(after: colon)]) + replacement + String(text[at...])
    }
}
