import BridgeCore
import Crypto
import Testing

@testable import Centrifuge

@Suite("JWTs and the token authorizer")
struct TokenTests {
    let verifier = JWTVerifier(secret: "s3cret")
    let now: Int64 = 1_800_000_000

    /// A token signed with any HMAC algorithm, or with a forged header.
    func token(_ claims: JSONValue, algorithm: String = "HS256", secret: String = "s3cret") -> String {
        let header = Base64URL.encode(Array(#"{"alg":"\#(algorithm)","typ":"JWT"}"#.utf8))
        let payload = Base64URL.encode(claims.jsonBytes)
        let message = Array("\(header).\(payload)".utf8)
        let key = SymmetricKey(data: Array(secret.utf8))
        let signature: [UInt8]
        switch algorithm {
        case "HS384": signature = Array(HMAC<SHA384>.authenticationCode(for: message, using: key))
        case "HS512": signature = Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        case "none": signature = []
        default: signature = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        }
        return "\(header).\(payload).\(Base64URL.encode(signature))"
    }

    @Test(arguments: ["HS256", "HS384", "HS512"])
    func acceptsEveryHMACAlgorithm(_ algorithm: String) throws {
        let claims = try verifier.verify(token(["sub": "42", "exp": .integer(now + 60)], algorithm: algorithm), now: now).get()
        #expect(claims["sub"] == "42")
    }

    @Test func refusesWhatIsNotAValidHMACToken() {
        let valid: JSONValue = ["sub": "42", "exp": .integer(now + 60)]
        let forged = [
            token(valid, algorithm: "none"), token(valid, algorithm: "RS256"), token(valid, secret: "other"), "a.b", "a.b.c",
            "", String(token(valid).dropLast(3)) + "AAA",
        ]
        for candidate in forged {
            guard case .failure(.invalid) = verifier.verify(candidate, now: now) else {
                Issue.record("accepted \(candidate)")
                continue
            }
        }
    }

    @Test func expiredAndNotYetValidTokensAreExpired() {
        #expect(verifier.verify(token(["exp": .integer(now - 1)]), now: now) == .failure(.expired))
        #expect(verifier.verify(token(["nbf": .integer(now + 30)]), now: now) == .failure(.expired))
        #expect((try? verifier.verify(token(["nbf": .integer(now - 30)]), now: now).get()) != nil)
    }

    @Test func audienceAndIssuerAreCheckedWhenConfigured() {
        let strict = JWTVerifier(secret: "s3cret", audience: "bridge", issuer: "auth.example")
        let good = token(["aud": ["other", "bridge"], "iss": "auth.example"])
        #expect((try? strict.verify(good, now: now).get()) != nil)
        guard case .failure(.invalid) = strict.verify(token(["aud": "other", "iss": "auth.example"]), now: now) else {
            Issue.record("wrong audience accepted")
            return
        }
        guard case .failure(.invalid) = strict.verify(token(["aud": "bridge"]), now: now) else {
            Issue.record("missing issuer accepted")
            return
        }
    }

    @Test func connectOutcomesAreCentrifugos() {
        let open = TokenAuthorizer(verifier: verifier, streamPrefix: "stream_", allowAnonymousStreams: true)
        let closed = TokenAuthorizer(verifier: verifier, streamPrefix: "stream_", allowAnonymousStreams: false)
        #expect(open.authorizeConnect(token: "", now: now) == .accept(Identity()))
        #expect(closed.authorizeConnect(token: "", now: now) == .disconnect(.badRequest))
        #expect(open.authorizeConnect(token: "junk", now: now) == .disconnect(.invalidToken))
        #expect(open.authorizeConnect(token: token(["sub": "7", "exp": .integer(now - 5)]), now: now) == .reject(.tokenExpired))
        #expect(open.authorizeConnect(token: token(["sub": "7", "channel": "x"]), now: now) == .disconnect(.invalidToken))
        let accepted = open.authorizeConnect(token: token(["sub": "7", "exp": .integer(now + 60), "info": ["name": "Ann"], "channels": ["news"]]), now: now)
        #expect(accepted == .accept(Identity(user: "7", info: Array(#"{"name":"Ann"}"#.utf8), expiresAt: now + 60, channels: ["news"])))
    }

    @Test func absurdExpiriesAreClampedNotTrapped() {
        let open = TokenAuthorizer(verifier: verifier, streamPrefix: "stream_", allowAnonymousStreams: true)
        for claims: JSONValue in [["sub": "7", "exp": .number(1e300)], ["sub": "7", "expire_at": .number(9.3e18)]] {
            guard case .accept(let identity) = open.authorizeConnect(token: token(claims), now: now) else {
                Issue.record("refused \(claims)")
                continue
            }
            #expect(identity.expiresAt == 1_000_000_000_000_000)
        }
        let harness = Harness(authorizer: open)
        harness.send(#"{"id":1,"connect":{"token":"\#(token(["sub": "7", "exp": .number(1e300)]))"}}"#)
        #expect(harness.read().first?["connect"]?["expires"] == true, "and the session copes with it")
    }

    @Test func serverSideSubscriptionsAreDeduplicatedAndWithinTheLimit() {
        let authorizer = TokenAuthorizer(verifier: verifier, streamPrefix: "stream_", allowAnonymousStreams: true)
        let harness = Harness(configuration: SessionConfiguration(maxSubscriptions: 2), authorizer: authorizer)
        let connectToken = token(["sub": "7", "channels": ["$a", "$a", "$b", "$c"]])
        harness.send(#"{"id":1,"connect":{"token":"\#(connectToken)"}}"#)
        let subs = harness.read().first?["connect"]?["subs"]?.objectValue
        #expect(subs.map { Set($0.keys) } == ["$a", "$b"])
        #expect(Set(harness.session.subscribedChannels) == ["$a", "$b"])
    }

    @Test func subscribeOutcomesAreCentrifugos() {
        let authorizer = TokenAuthorizer(verifier: verifier, streamPrefix: "stream_", allowAnonymousStreams: true)
        let strict = TokenAuthorizer(verifier: verifier, streamPrefix: "stream_", allowAnonymousStreams: false)
        let anonymous = Identity()
        let ann = Identity(user: "ann")
        func subscribe(_ authorizer: TokenAuthorizer, _ channel: String, _ token: String = "", as identity: Identity) -> SubscribeDecision {
            authorizer.authorizeSubscribe(channel: channel, token: token, identity: identity, client: "c1", now: now)
        }
        #expect(subscribe(authorizer, "stream_abc", as: anonymous) == .allow(info: nil, expiresAt: nil))
        #expect(subscribe(strict, "stream_abc", as: anonymous) == .reject(.permissionDenied))
        #expect(subscribe(strict, "stream_abc", as: ann) == .allow(info: nil, expiresAt: nil))
        #expect(subscribe(authorizer, "news", as: anonymous) == .reject(.permissionDenied))
        #expect(subscribe(authorizer, "news", as: ann) == .allow(info: nil, expiresAt: nil))
        #expect(subscribe(authorizer, "$secret", as: ann) == .reject(.permissionDenied))
        let subToken = token(["sub": "ann", "channel": "$secret", "exp": .integer(now + 60)])
        #expect(subscribe(authorizer, "$secret", subToken, as: ann) == .allow(info: nil, expiresAt: now + 60))
        #expect(subscribe(authorizer, "$other", subToken, as: ann) == .disconnect(.invalidToken))
        #expect(subscribe(authorizer, "$secret", subToken, as: Identity(user: "bob")) == .disconnect(.invalidToken))
        #expect(subscribe(authorizer, "$secret", token(["sub": "ann", "channel": "$secret", "client": "c2"]), as: ann) == .disconnect(.invalidToken))
        #expect(subscribe(authorizer, "$secret", token(["sub": "ann", "channel": "$secret", "exp": .integer(now - 1)]), as: ann) == .reject(.tokenExpired))
        #expect(subscribe(authorizer, "$secret", "garbage", as: ann) == .reject(.permissionDenied))
    }

    @Test func base64URLRoundTrips() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Array(Base64URL.encode(bytes).utf8)) == bytes)
        }
        #expect(Base64URL.decode(Array("ab+/".utf8)) == nil)
    }
}
