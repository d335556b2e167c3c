extension BridgeConfiguration {
    /// Logging of the whole process.
    public struct Log: Sendable, Equatable {
        /// Raw values match swift-log's `Logger.Level`, so `Logger.Level(rawValue:)` maps them.
        public enum Level: String, Sendable, CaseIterable {
            case trace, debug, info, notice, warning, error, critical
        }

        /// Messages below this level are dropped.
        public var level: Level

        /// Defaults are the documented `log` section.
        public init(level: Level = .info) {
            self.level = level
        }
    }
}
