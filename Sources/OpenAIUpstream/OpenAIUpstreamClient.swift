import BridgeCore
import Curl
import Logging

/// `LLMClient` for any OpenAI-compatible server, over the shared curl loop.
public final class OpenAIUpstreamClient: LLMClient {
    public let configuration: UpstreamConfiguration
    let loop: CurlMultiLoop
    let logger: Logger
    /// The timeouts' reasons, made once: the idle one is set again on every read that brings a
    /// token, and formatting a Duration there cost about 1% of the bridge's CPU.
    let firstTokenTimeoutReason: String
    let idleTimeoutReason: String

    public init(configuration: UpstreamConfiguration, loop: CurlMultiLoop, logger: Logger) {
        self.configuration = configuration
        self.loop = loop
        self.logger = logger
        firstTokenTimeoutReason = "no first token within \(configuration.firstTokenTimeout)"
        idleTimeoutReason = "no token for \(configuration.idleTimeout)"
    }

    public func start(_ request: UpstreamRequest, receiver: any LLMReceiver) -> any LLMCall {
        let call = UpstreamCall(client: self, request: request, receiver: receiver)
        call.begin()
        return call
    }

    public func probe() async -> String? {
        let request = CurlRequest(
            url: configuration.modelsURL, method: "GET", headers: configuration.authorizationHeaders, body: [],
            connectTimeout: min(configuration.connectTimeout, .seconds(3)), totalTimeout: .seconds(5))
        do {
            let response = try await loop.perform(request)
            if response.status >= 500 { return "\(configuration.modelsURL) answered \(response.status)" }
            if response.status == 401 || response.status == 403 {
                return "\(configuration.modelsURL) refused the API key (\(response.status))"
            }
            return nil
        } catch {
            return "\(configuration.baseURL) is unreachable: \(error.message)"
        }
    }

    public func models() async -> Result<[String], StreamFailure> {
        let request = CurlRequest(
            url: configuration.modelsURL, method: "GET", headers: configuration.authorizationHeaders, body: [],
            connectTimeout: configuration.connectTimeout, totalTimeout: .seconds(10))
        do {
            let response = try await loop.perform(request)
            guard (200..<300).contains(response.status) else {
                return .failure(StreamFailure(code: .upstreamError, message: "models list answered \(response.status)", upstreamStatus: response.status))
            }
            let list = try JSONParser.parse(response.body)
            let names = list["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            return .success(names)
        } catch let error as CurlError {
            return .failure(StreamFailure(code: .upstreamUnavailable, message: error.message))
        } catch {
            return .failure(StreamFailure(code: .upstreamProtocol, message: "models list is not JSON: \(error)"))
        }
    }
}
