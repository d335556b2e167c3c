import Testing

@testable import OpenAIUpstream

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy(retries: 2, base: .milliseconds(500), maximum: .seconds(4))

    @Test func retriesRateLimitsAndServerErrorsOnly() {
        #expect(RetryPolicy.isRetryable(status: 429))
        #expect(RetryPolicy.isRetryable(status: 500))
        #expect(RetryPolicy.isRetryable(status: 503))
        #expect(!RetryPolicy.isRetryable(status: 400))
        #expect(!RetryPolicy.isRetryable(status: 401))
        #expect(!RetryPolicy.isRetryable(status: 404))
    }

    @Test func backsOffExponentiallyWithJitterAndACap() {
        for _ in 0..<100 {
            let first = policy.delay(afterAttempt: 1, retryAfter: nil)
            #expect(first >= .milliseconds(250) && first <= .milliseconds(500))
            let second = policy.delay(afterAttempt: 2, retryAfter: nil)
            #expect(second >= .milliseconds(500) && second <= .milliseconds(1000))
            let late = policy.delay(afterAttempt: 12, retryAfter: nil)
            #expect(late <= .seconds(4))
        }
    }

    @Test func honoursRetryAfterWhenLonger() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: 3) >= .seconds(3))
        #expect(policy.delay(afterAttempt: 1, retryAfter: 0.01) >= .milliseconds(250))
        #expect(RetryPolicy.parseRetryAfter(" 2 ") == 2)
        #expect(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
    }
}
