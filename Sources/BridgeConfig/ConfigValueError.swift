/// Why one raw value does not fit its key; the loader adds the key and the source.
struct ConfigValueError: Error, Equatable, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
