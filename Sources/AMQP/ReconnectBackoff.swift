/// Capped exponential backoff with full jitter between reconnect attempts, so a fleet of bridges
/// does not reconnect to a restarted broker in lockstep.
struct ReconnectBackoff {
    let base: Duration
    let maximum: Duration
    private(set) var failures = 0

    init(base: Duration, maximum: Duration) {
        self.base = base
        self.maximum = max(base, maximum)
    }

    /// The wait before the next attempt: uniformly random between half and all of the capped
    /// exponential step, so it never collapses to zero.
    mutating func nextDelay<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Duration {
        let exponent = min(failures, 30)
        failures += 1
        let step = min(base * (1 << exponent), maximum)
        let fraction = Double.random(in: 0.5...1.0, using: &generator)
        return step * fraction
    }

    mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    mutating func reset() {
        failures = 0
    }
}
