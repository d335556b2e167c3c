import BridgeCore
import Crypto

/// HMAC-signed JWTs (HS256, HS384, HS512), checked the way Centrifugo checks them. Anything else,
/// `alg: none` and public-key algorithms included (algorithm confusion), is invalid.
public struct JWTVerifier: Sendable {
    public enum Failure: Error, Equatable {
        /// Malformed, badly signed, wrong algorithm, wrong audience or issuer: close 3500.
        case invalid(String)
        /// `exp` passed or `nbf` not reached: error 109, the SDK gets a new token.
        case expired
    }

    /// The secret's bytes: swift-crypto's `SymmetricKey` is not Sendable, so a key is made per use.
    private let secret: [UInt8]
    /// Required `aud` and `iss`, when set.
    public let audience: String?
    public let issuer: String?

    public init(secret: String, audience: String? = nil, issuer: String? = nil) {
        self.secret = Array(secret.utf8)
        self.audience = audience
        self.issuer = issuer
    }

    /// The token's claims once its signature, time window, audience and issuer hold.
    public func verify(_ token: String, now: Int64) -> Result<JSONObject, Failure> {
        let parts = Array(token.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { return .failure(.invalid("not a JWT")) }
        guard let header = try? JSONParser.parse(headerBytes).objectValue, let algorithm = header["alg"]?.stringValue else {
            return .failure(.invalid("no algorithm in the header"))
        }
        let signed = Array(parts[0]) + [UInt8(ascii: ".")] + Array(parts[1])
        guard let expected = sign(signed, algorithm: algorithm) else {
            return .failure(.invalid("algorithm \(algorithm) is not accepted (HS256, HS384, HS512 only)"))
        }
        guard constantTimeEquals(expected, signature) else { return .failure(.invalid("bad signature")) }
        guard let claims = try? JSONParser.parse(payloadBytes).objectValue else { return .failure(.invalid("the payload is not a JSON object")) }
        if let exp = claims["exp"], !exp.isNull {
            guard let seconds = exp.doubleValue else { return .failure(.invalid("exp is not a number")) }
            if Double(now) >= seconds { return .failure(.expired) }
        }
        if let nbf = claims["nbf"], !nbf.isNull {
            guard let seconds = nbf.doubleValue else { return .failure(.invalid("nbf is not a number")) }
            if Double(now) < seconds { return .failure(.expired) }
        }
        if let audience, !Self.audience(claims["aud"], contains: audience) { return .failure(.invalid("wrong audience")) }
        if let issuer, claims["iss"]?.stringValue != issuer { return .failure(.invalid("wrong issuer")) }
        return .success(claims)
    }

    private func sign(_ message: [UInt8], algorithm: String) -> [UInt8]? {
        let key = SymmetricKey(data: secret)
        switch algorithm {
        case "HS256": return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case "HS384": return Array(HMAC<SHA384>.authenticationCode(for: message, using: key))
        case "HS512": return Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        default: return nil
        }
    }

    private func constantTimeEquals(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    private static func audience(_ claim: JSONValue?, contains audience: String) -> Bool {
        switch claim {
        case .string(let single): return single == audience
        case .array(let many): return many.contains { $0.stringValue == audience }
        default: return false
        }
    }

    /// Signs claims (for tests and tools): `header.payload.signature` with HS256.
    public func token(claims: JSONObject) -> String {
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = Base64URL.encode(JSONValue.object(claims).jsonBytes)
        let signature = HMAC<SHA256>.authenticationCode(for: Array("\(header).\(payload)".utf8), using: SymmetricKey(data: secret))
        return "\(header).\(payload).\(Base64URL.encode(Array(signature)))"
    }
}
