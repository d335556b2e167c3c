import Testing

@testable import AMQP

@Suite("AMQP URLs")
struct AMQPURLTests {
    @Test func parsesTheChatgptQueueDefault() throws {
        let url = try AMQPURL(parsing: "amqp://guest:guest@localhost:5672/")
        #expect(url.user == "guest")
        #expect(url.password == "guest")
        #expect(url.host == "localhost")
        #expect(url.port == 5672)
        #expect(url.virtualHost == "/")
        #expect(!url.usesTLS)
    }

    @Test func parsesTLSDefaultsAndEscapedVirtualHosts() throws {
        let tls = try AMQPURL(parsing: "amqps://bridge:s%40cret@mq.example.com/prod")
        #expect(tls.usesTLS)
        #expect(tls.port == 5671)
        #expect(tls.password == "s@cret")
        #expect(tls.virtualHost == "prod")
        #expect(try AMQPURL(parsing: "amqp://h/%2f").virtualHost == "/")
    }

    @Test(arguments: ["http://localhost/", "amqp://", "localhost:5672", "amqp://host:notaport/", ""])
    func refusesWhatIsNotAnAMQPURL(_ text: String) {
        #expect(throws: AMQPURL.ParseError.self) { try AMQPURL(parsing: text) }
    }

    @Test func neverPrintsThePassword() throws {
        let url = try AMQPURL(parsing: "amqp://u:topsecret@h:1/v")
        #expect(!url.description.contains("topsecret"))
        #expect(!AMQPURL.ParseError(url: "amqp://u:topsecret@h:x/", reason: "r").description.contains("topsecret"))
    }
}
