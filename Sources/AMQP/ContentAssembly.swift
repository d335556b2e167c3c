/// A message arriving in pieces: the method frame (deliver or return), then a header frame with
/// the properties and body size, then body frames until the size is reached.
struct ContentAssembly {
    enum Origin {
        case delivery(consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String)
        case returned(replyCode: Int, replyText: String, exchange: String, routingKey: String)
    }

    let origin: Origin
    var properties: AMQPProperties?
    var expectedSize: Int?
    var body: [UInt8] = []

    init(origin: Origin) {
        self.origin = origin
    }

    var isComplete: Bool {
        guard let expectedSize else { return false }
        return body.count >= expectedSize
    }
}
