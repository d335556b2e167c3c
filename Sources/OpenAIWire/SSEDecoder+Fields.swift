// MARK: - Interpreting lines (the spec's "process the field" and "dispatch the event")

extension SSEDecoder {
    /// Handles one complete line, terminator excluded; true when the line is blank and completes
    /// a message (then in `data` and `eventType` until `clearMessage`). Sets `failure` when the
    /// message's data would exceed its bound.
    mutating func processLine(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let first = line.first else { return dispatch() }
        let colon = UInt8(ascii: ":")
        if first == colon {
            commentCount += 1
            return false
        }
        var nameEnd = 0
        while nameEnd < line.count, line[nameEnd] != colon { nameEnd += 1 }
        var valueStart = min(nameEnd + 1, line.count)
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let name = UnsafeRawBufferPointer(rebasing: line[..<nameEnd])
        let value = UnsafeRawBufferPointer(rebasing: line[valueStart...])
        if Self.equals(name, "data") {
            guard data.count + value.count + 1 <= configuration.maximumEventLength else {
                failure = Failure(kind: .eventTooLong, limit: configuration.maximumEventLength)
                data = []
                return false
            }
            data.append(contentsOf: value)
            data.append(Self.lineFeed)
        } else if Self.equals(name, "event") {
            eventType = String(decoding: value, as: UTF8.self)
        } else if Self.equals(name, "id") {
            // An id containing NUL is ignored by the spec (it could not be sent back in a header).
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        } else if Self.equals(name, "retry") {
            if let milliseconds = Self.decimal(value) { retry = milliseconds }
        }
        // Any other field name is ignored, as the spec requires.
        return false
    }

    /// The blank line: the collected data is a message, unless there is none (then the event
    /// type is forgotten, as the spec says).
    mutating func dispatch() -> Bool {
        guard !data.isEmpty else {
            eventType = ""
            return false
        }
        return true
    }

    /// Forgets the message just handed over; its buffer is kept unless one huge message grew it.
    mutating func clearMessage() {
        eventType = ""
        if data.capacity > Self.retainedCapacity {
            data = []
        } else {
            data.removeAll(keepingCapacity: true)
        }
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        for offset in 0..<bytes.count where bytes[offset] != expected[offset] { return false }
        return true
    }

    /// ASCII digits only, as the spec requires for `retry`; nil for anything else or overflow.
    static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
