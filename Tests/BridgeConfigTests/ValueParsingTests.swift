import Testing

@testable import BridgeConfig

@Suite struct ValueParsingTests {
    @Test(arguments: [
        ("0", Duration.zero), ("500ms", .milliseconds(500)), ("2s", .seconds(2)), ("10m", .seconds(600)),
        ("1h", .seconds(3600)), ("1m30s", .seconds(90)), ("1.5s", .milliseconds(1500)), ("250us", .microseconds(250)),
        ("3µs", .microseconds(3)), ("7ns", .nanoseconds(7)), ("1h2m3s4ms", .milliseconds(3_723_004)),
        (" 15s ", .seconds(15)),
    ])
    func parsesDurations(text: String, expected: Duration) throws {
        #expect(try ConfigDuration.parse(text) == expected)
    }

    @Test(arguments: [
        ("15", "has no unit"), ("1.5", "has no unit"), ("-5s", "negative"), ("", "needs a duration"),
        ("5 s", "is not a duration"), ("5sec", "is not a duration"), ("s", "is not a duration"),
        ("1.s", "is not a duration"),
        ("1..5s", "is not a duration"), ("10d", "is not a duration"), ("9999999999h", "too long"),
        ("99999999999999999999ns", "too long"), (".5s", "is not a duration"),
    ])
    func rejectsBadDurations(text: String, reason: String) {
        #expect {
            try ConfigDuration.parse(text)
        } throws: { error in
            (error as? ConfigValueError)?.message.contains(reason) == true
        }
    }

    @Test(arguments: [
        (Duration.zero, "0s"), (.milliseconds(500), "500ms"), (.seconds(90), "1m30s"), (.seconds(1800), "30m"),
        (.milliseconds(1500), "1s500ms"), (.seconds(7200), "2h"), (.nanoseconds(1_000_001), "1ms1ns"),
    ])
    func formatsDurationsSoTheyParseBack(duration: Duration, text: String) throws {
        #expect(ConfigDuration.format(duration) == text)
        #expect(try ConfigDuration.parse(text) == duration)
    }

    @Test(arguments: [
        ("1048576", 1_048_576), ("1MiB", 1 << 20), ("512KiB", 512 << 10), ("16KB", 16_000), ("2 GiB", 2 << 30),
        ("1mb", 1_000_000), ("100B", 100),
    ])
    func parsesSizes(text: String, expected: Int) throws {
        #expect(try ConfigByteSize.parse(text) == expected)
    }

    @Test(arguments: ["1.5MiB", "16K", "-1", "MiB", "", "12 parsecs", "99999999999999999999"])
    func rejectsBadSizes(text: String) {
        #expect(throws: ConfigValueError.self) { try ConfigByteSize.parse(text) }
    }

    @Test func durationsInTheFileNeedAUnit() {
        let result = load("server: {sse_keepalive: 15}\npipeline: {shutdown_grace: 0}")
        #expect(result.problemKeys == ["server.sse_keepalive"])
        #expect(result.problems.first?.message == "'15' has no unit; write 15s for seconds (or ms, m, h)")
        #expect(result.configuration.pipeline.shutdownGrace == .zero)
    }

    @Test func wrongShapesAreReported() {
        let yaml = """
            server:
              port: [1, 2]
              api_keys: {a: b}
              host: ~
            llm: 5
            sinks:
              websocket: {}
              default: websocket
            """
        let result = load(yaml)
        #expect(result.problemKeys == ["server.port", "server.api_keys", "llm", "server.host"])
        #expect(result.problems[0].message == "expected a whole number, got a list")
        #expect(result.problems[1].message == "expected list of strings, got a section")
        #expect(result.problems[2].message == "is a section; expected keys under it such as 'provider:'")
        #expect(result.configuration.sinks.default == [.websocket])  // a single word is a one-item list
    }

    @Test func quotedNullIsAString() {
        let result = load("llm: {model: \"null\", api_key: }")
        #expect(result.problems.isEmpty)
        #expect(result.configuration.llm.model == "null")
        #expect(result.configuration.llm.apiKey == "")
    }
}
