import Foundation

/// Wall-clock seconds since 1970, for the `created` fields. Kept in one file so the rest of the
/// module needs no Foundation.
enum UnixTime {
    static func now() -> Int {
        Int(Date().timeIntervalSince1970)
    }
}
