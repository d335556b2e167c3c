/// A key whose value is one word from a closed set, such as `llm.provider`.
protocol ConfigChoice: RawRepresentable<String>, CaseIterable, Sendable {
    /// Other spellings accepted on input; output always uses `rawValue`.
    static var aliases: [String: Self] { get }
}

extension ConfigChoice {
    static var aliases: [String: Self] { [:] }

    /// Words are matched case-insensitively: env values are often written in upper case.
    static func parse(_ text: String) -> Self? {
        let word = text.lowercased()
        return Self(rawValue: word) ?? aliases[word]
    }

    static var spelledOut: String {
        allCases.map(\.rawValue).joined(separator: ", ")
    }
}

extension BridgeConfiguration.LLM.Provider: ConfigChoice {}
extension BridgeConfiguration.SinkName: ConfigChoice {}
extension BridgeConfiguration.Sinks.RabbitMQ.Format: ConfigChoice {}
extension BridgeConfiguration.Sinks.RabbitMQ.DeliveryMode: ConfigChoice {}
extension BridgeConfiguration.Sinks.Centrifugo.APIStyle: ConfigChoice {}
extension BridgeConfiguration.Channels.Auth.Mode: ConfigChoice {}

extension BridgeConfiguration.Log.Level: ConfigChoice {
    /// logrus spellings, because chatgpt-queue's `LOG_LEVEL` took them.
    static var aliases: [String: Self] { ["warn": .warning, "fatal": .critical, "panic": .critical] }
}
