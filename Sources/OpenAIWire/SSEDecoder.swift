import Glibc

/// An incremental Server-Sent Events parser (WHATWG HTML, "Parsing an event stream").
///
/// Bytes may arrive split anywhere: inside a CRLF pair, inside a multi-byte UTF-8 character, inside
/// the BOM. It runs for every token of every upstream stream, so it scans bytes for line ends and
/// copies whole slices; a line is carried over between calls only when a read ends inside it, and
/// text is decoded once per message, never per byte.
public struct SSEDecoder: Sendable {
    /// Limits that keep a misbehaving server from growing a buffer without bound.
    public struct Configuration: Sendable, Equatable {
        /// The longest line accepted, terminator excluded.
        public var maximumLineLength: Int
        /// The most `data` one message may accumulate over all its lines.
        public var maximumEventLength: Int
        /// The spec discards an event that the input ends inside of (no blank line after it). Set
        /// this to dispatch it instead, for servers that close right after their last `data:` line.
        public var dispatchesUnterminatedEventAtEnd: Bool

        public init(
            maximumLineLength: Int = 4 << 20, maximumEventLength: Int = 8 << 20,
            dispatchesUnterminatedEventAtEnd: Bool = false
        ) {
            self.maximumLineLength = maximumLineLength
            self.maximumEventLength = maximumEventLength
            self.dispatchesUnterminatedEventAtEnd = dispatchesUnterminatedEventAtEnd
        }
    }

    /// Why the decoder gave up; it stays failed, and every later `feed` throws the same failure.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Which bound was exceeded.
        public enum Kind: Sendable, Equatable {
            case lineTooLong
            case eventTooLong
        }

        public var kind: Kind
        /// The limit that was exceeded, in bytes.
        public var limit: Int

        public init(kind: Kind, limit: Int) {
            self.kind = kind
            self.limit = limit
        }

        public var description: String {
            switch kind {
            case .lineTooLong: return "an event stream line is longer than \(limit) bytes"
            case .eventTooLong: return "an event stream message carries more than \(limit) bytes of data"
            }
        }
    }

    public let configuration: Configuration
    /// Comment lines seen (`: keep-alive`, `: ping`); a cheap liveness signal for idle timeouts.
    public internal(set) var commentCount = 0
    /// The last valid `retry:` value, in milliseconds.
    public internal(set) var retry: Int?
    /// The last event id buffer; it outlives messages and `finish()`, as the spec's does.
    public internal(set) var lastEventID: String?

    /// The start of a line the previous read ended inside of.
    var carried: [UInt8] = []
    var data: [UInt8] = []
    var eventType = ""
    /// The previous read ended with CR: a LF opening the next read belongs to that line end.
    var skipsLineFeed = false
    /// Bytes of the UTF-8 BOM matched so far at the start of the stream; nil once decided.
    var bomMatched: Int? = 0
    var failure: Failure?

    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    /// Buffers that grew past this are released after use, so one huge message does not pin
    /// megabytes per stream for the rest of its life.
    static let retainedCapacity = 64 << 10

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Parses the next bytes of the stream and returns the messages they completed.
    ///
    /// A failure discards the messages completed earlier in the same call: the stream is broken
    /// and the caller ends it.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> [SSEMessage] {
        var messages: [SSEMessage] = []
        try feed(bytes) { view in
            messages.append(view.message)
            return true
        }
        return messages
    }

    /// Parses the next bytes of the stream, handing each message to `body` as it completes, its
    /// data as the decoder's own bytes: the upstream path reads every token's chunk this way,
    /// without a String of the whole chunk. `body` returns false to stop reading these bytes; the
    /// stream is then given up (what followed in them is dropped). A failure is thrown after the
    /// messages before it in these bytes were handed over.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, each body: (SSEMessageView) -> Bool) throws(Failure) {
        if let failure { throw failure }
        var index = skipByteOrderMark(in: bytes)
        if skipsLineFeed, index < bytes.count {
            skipsLineFeed = false
            if bytes[index] == Self.lineFeed { index += 1 }
        }
        while index < bytes.count {
            guard let end = Self.lineEnd(in: bytes, from: index) else {
                try checkLineLength(carried.count + bytes.count - index)
                carried.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index...]))
                break
            }
            try checkLineLength(carried.count + end - index)
            let line = UnsafeRawBufferPointer(rebasing: bytes[index..<end])
            let dispatched: Bool
            if carried.isEmpty {
                dispatched = processLine(line)
            } else {
                carried.append(contentsOf: line)
                dispatched = processCarriedLine()
            }
            if let failure { throw failure }
            index = end + 1
            if bytes[end] == Self.carriageReturn {
                if index == bytes.count {
                    skipsLineFeed = true
                } else if bytes[index] == Self.lineFeed {
                    index += 1
                }
            }
            if dispatched, !handOver(to: body) { return }
        }
    }

    /// `feed` for bytes in an array.
    public mutating func feed(_ bytes: [UInt8]) throws(Failure) -> [SSEMessage] {
        // withUnsafeBytes is not typed-throws: carry the outcome out as a Result.
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(Failure) -> [SSEMessage] in try feed(buffer) }
        }.get()
    }

    /// Ends the input. Per the spec an event the input ends inside of is discarded, unless the
    /// configuration says to dispatch it. The decoder is then ready for a new stream (a reconnect);
    /// `lastEventID`, `retry` and `commentCount` are kept.
    public mutating func finish() -> [SSEMessage] {
        var messages: [SSEMessage] = []
        finish { view in
            messages.append(view.message)
            return true
        }
        return messages
    }

    /// `finish()`, handing the last message, if any, to `body` as `feed(_:each:)` does.
    public mutating func finish(each body: (SSEMessageView) -> Bool) {
        defer { reset() }
        guard failure == nil, configuration.dispatchesUnterminatedEventAtEnd else { return }
        if let matched = bomMatched, matched > 0 {
            carried.insert(contentsOf: Self.byteOrderMark[..<matched], at: 0)
        }
        // A carried line is never blank, so only the final dispatch can complete a message.
        if !carried.isEmpty, processCarriedLine() { _ = handOver(to: body) }
        guard failure == nil, dispatch() else { return }
        _ = handOver(to: body)
    }

    /// Hands the message collected in `data` to `body`, then clears it for the next one.
    private mutating func handOver(to body: (SSEMessageView) -> Bool) -> Bool {
        defer { clearMessage() }
        let event = eventType.isEmpty ? "message" : eventType
        let id = lastEventID
        return data.withUnsafeBytes { bytes in
            // The last byte is the line feed every data line adds: the spec drops the final one.
            body(SSEMessageView(event: event, data: UnsafeRawBufferPointer(rebasing: bytes.dropLast()), id: id))
        }
    }

    // MARK: - Scanning

    static func lineEnd(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        // memchr scans a word at a time; a byte loop here was the decoder's largest cost.
        guard let base = bytes.baseAddress, start < bytes.count else { return nil }
        let from = base + start
        let length = bytes.count - start
        let lineFeedAt = memchr(from, Int32(lineFeed), length).map { UnsafeRawPointer($0) - base }
        let searchLength = (lineFeedAt ?? bytes.count) - start
        if searchLength > 0, let returnAt = memchr(from, Int32(carriageReturn), searchLength) {
            return UnsafeRawPointer(returnAt) - base
        }
        return lineFeedAt
    }

    /// Consumes the UTF-8 BOM, which may itself arrive split; returns where content starts.
    private mutating func skipByteOrderMark(in bytes: UnsafeRawBufferPointer) -> Int {
        guard var matched = bomMatched else { return 0 }
        var index = 0
        while index < bytes.count, matched < Self.byteOrderMark.count {
            guard bytes[index] == Self.byteOrderMark[matched] else {
                // Not a BOM after all: what looked like one is the start of the first line.
                carried.append(contentsOf: Self.byteOrderMark[..<matched])
                bomMatched = nil
                return index
            }
            matched += 1
            index += 1
        }
        bomMatched = matched == Self.byteOrderMark.count ? nil : matched
        return index
    }

    private mutating func checkLineLength(_ length: Int) throws(Failure) {
        guard length > configuration.maximumLineLength else { return }
        let failure = Failure(kind: .lineTooLong, limit: configuration.maximumLineLength)
        self.failure = failure
        carried = []
        throw failure
    }

    private mutating func processCarriedLine() -> Bool {
        // Move the buffer out so processLine can mutate self while reading it.
        var line: [UInt8] = []
        swap(&line, &carried)
        let dispatched = line.withUnsafeBytes { processLine($0) }
        if line.capacity <= Self.retainedCapacity {
            line.removeAll(keepingCapacity: true)
            swap(&line, &carried)
        }
        return dispatched
    }

    private mutating func reset() {
        carried = []
        data = []
        eventType = ""
        skipsLineFeed = false
        bomMatched = 0
        failure = nil
    }
}
