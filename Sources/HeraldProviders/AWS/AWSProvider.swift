import Foundation
import HeraldCore

/// AWS End User Messaging SMS and Voice v2: `SendTextMessage`, `SendMediaMessage`,
/// `SendVoiceMessage`, `SendRcsMessage` and `SendNotify{Text,Voice}Message` by the
/// template's channel, over JSON 1.0, signed
/// with SigV4 (service `sms-voice`). AWS Send operations take no idempotency key, so
/// a message whose request may have arrived is left in doubt, never resent on its own.
public final class AWSProvider: MessageProvider {
    public let name = ProviderKind.aws.name
    public let capabilities = ProviderKind.aws.capabilities
    public let endpoint: String
    public let region: String
    private let configuration: AWSConfiguration
    private let requests: AWSRequests
    private let signer: SigV4
    private let transport: any HTTPTransport
    private let host: String

    /// Resolves credentials, region and endpoint before anything is sent.
    public init(configuration: AWSConfiguration, environment: AWSEnvironment = AWSEnvironment(),
                transport: any HTTPTransport) throws(AWSSetupError) {
        guard let region = configuration.region ?? environment.region() else { throw .noRegion }
        guard let credentials = environment.credentials() else { throw .noCredentials }
        let endpoint = configuration.endpoint ?? environment.endpoint() ?? "https://sms-voice.\(region).amazonaws.com"
        guard let url = URL(string: endpoint), let host = url.host, url.scheme == "https" || url.scheme == "http" else {
            throw .badEndpoint(endpoint)
        }
        self.host = url.port.map { "\(host):\($0)" } ?? host
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.region = region
        self.configuration = configuration
        requests = AWSRequests(configuration: configuration)
        self.transport = transport
        signer = SigV4(credentials: credentials, region: region, service: "sms-voice")
    }

    public func send(_ message: OutboundMessage) async -> SendOutcome {
        let request: (operation: String, body: String)
        switch requests.build(message) {
        case .success(let built): request = built
        case .failure(let issue): return .permanent(reason: "invalid_content: \(issue)")
        }
        do {
            return Self.outcome(of: try await call(request.operation, body: Array(request.body.utf8)))
        } catch {
            return error.outcome
        }
    }

    /// One signed JSON 1.0 call: `POST /` with `X-Amz-Target: PinpointSMSVoiceV2.<operation>`.
    private func call(_ operation: String, body: [UInt8]) async throws(TransportError) -> HTTPResponseData {
        var headers = [("Host", host), ("Content-Type", "application/x-amz-json-1.0"),
                       ("X-Amz-Target", "PinpointSMSVoiceV2.\(operation)")]
        headers += signer.sign(method: "POST", path: "/", headers: headers, payload: body, date: Date())
        return try await transport.send(HTTPRequestData(method: "POST", url: endpoint + "/", headers: headers, body: body))
    }

    /// The account's monthly spend limits (`DescribeSpendLimits`, every page).
    public func describeSpendLimits() async throws -> [AWSSpendLimit] {
        var limits: [AWSSpendLimit] = []
        try await everyPage("DescribeSpendLimits", fields: "\"MaxResults\":50") { object in
            for item in object["SpendLimits"] as? [[String: Any]] ?? [] {
                guard let name = item["Name"] as? String else { continue }
                limits.append(AWSSpendLimit(name: name, enforcedLimit: (item["EnforcedLimit"] as? NSNumber)?.int64Value ?? 0,
                                            maxLimit: (item["MaxLimit"] as? NSNumber)?.int64Value ?? 0,
                                            overridden: item["Overridden"] as? Bool ?? false))
            }
        }
        return limits
    }

    /// Every number on an opt-out list (`DescribeOptedOutNumbers`, every page), with when
    /// it opted out (seconds since 1970).
    public func describeOptedOutNumbers(list: String) async throws -> [(number: String, optedOutAt: Double)] {
        var numbers: [(String, Double)] = []
        var fields = "\"MaxResults\":100,\"OptOutListName\":"
        JSONEscape.appendQuoted(list, to: &fields)
        try await everyPage("DescribeOptedOutNumbers", fields: fields) { object in
            for item in object["OptedOutNumbers"] as? [[String: Any]] ?? [] {
                guard let number = item["OptedOutNumber"] as? String else { continue }
                numbers.append((number, (item["OptedOutTimestamp"] as? NSNumber)?.doubleValue ?? 0))
            }
        }
        return numbers
    }

    /// Calls a paginated operation until its last page, handing each page's JSON to `page`.
    /// `fields` are the input's members other than `NextToken`.
    private func everyPage(_ operation: String, fields: String, _ page: ([String: Any]) -> Void) async throws {
        var token: String?
        repeat {
            var body = "{" + fields
            if let token {
                body += ",\"NextToken\":"
                JSONEscape.appendQuoted(token, to: &body)
            }
            body += "}"
            let response: HTTPResponseData
            do {
                response = try await call(operation, body: Array(body.utf8))
            } catch {
                throw AWSCallError(description: "\(operation): no answer (\(error))")
            }
            guard response.status == 200,
                let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
            else {
                throw AWSCallError(description: "\(operation): \(Self.outcome(of: response))")
            }
            page(object)
            token = object["NextToken"] as? String
        } while token != nil
    }

    /// The operation's JSON input (see `AWSRequests`).
    func requestBody(_ message: OutboundMessage) -> String {
        requests.textMessage(message)
    }

    /// Maps an answer by HTTP status, `__type` and `Reason`.
    static func outcome(of response: HTTPResponseData) -> SendOutcome {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        if response.status == 200 {
            guard let id = object["MessageId"] as? String else {
                return .indeterminate(reason: "HTTP 200 without a MessageId")
            }
            return .accepted(providerRef: id)
        }
        let rawType = (object["__type"] as? String) ?? response.header("x-amzn-ErrorType") ?? ""
        let type = String(rawType.split(separator: "#").last ?? "").split(separator: ":").first.map(String.init) ?? ""
        let reason = object["Reason"] as? String
        let text = (object["Message"] as? String) ?? (object["message"] as? String) ?? ""
        let detail = [type, reason, text].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        switch type {
        case "ThrottlingException":
            return .throttled(retryAfter: response.retryAfter)
        case "ServiceQuotaExceededException" where reason?.hasPrefix("MONTHLY_SPEND_LIMIT_REACHED") == true:
            return .spendLimit(reason: detail)
        case "ConflictException" where reason == "DESTINATION_PHONE_NUMBER_OPTED_OUT":
            return .optedOut(reason: detail)
        case "ValidationException" where reason == "PRICE_OVER_THRESHOLD":
            return .overMaxPrice(reason: detail)
        case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
            "ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken":
            return .campaignRefused(reason: detail)
        case "ResourceNotFoundException":
            // An unknown origination identity or configuration set fails every row alike.
            return .campaignRefused(reason: detail)
        case "ValidationException", "ConflictException", "ServiceQuotaExceededException":
            return .permanent(reason: detail)
        case "InternalServerException":
            return .transient(reason: detail)
        default:
            if response.status == 429 { return .throttled(retryAfter: response.retryAfter) }
            if response.status >= 500 { return .transient(reason: detail.isEmpty ? "HTTP \(response.status)" : detail) }
            return .permanent(reason: detail.isEmpty ? "HTTP \(response.status)" : detail)
        }
    }

    public func shutdown() async {
        await transport.shutdown()
    }
}

/// One monthly spend limit of the account, in whole USD.
public struct AWSSpendLimit: Sendable, Equatable, Codable {
    public let name: String
    public let enforcedLimit: Int64
    public let maxLimit: Int64
    public let overridden: Bool

    enum CodingKeys: String, CodingKey {
        case name
        case enforcedLimit = "enforced_limit"
        case maxLimit = "max_limit"
        case overridden
    }
}

public struct AWSCallError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Why the AWS provider cannot start; said before anything is sent.
public enum AWSSetupError: Error, Sendable, CustomStringConvertible {
    case noRegion
    case noCredentials
    case badEndpoint(String)

    public var description: String {
        switch self {
        case .noRegion:
            return "no AWS region: set provider.region, AWS_REGION or AWS_DEFAULT_REGION, or a region in the AWS profile"
        case .noCredentials:
            return "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in ~/.aws/credentials"
        case .badEndpoint(let endpoint):
            return "endpoint \"\(endpoint)\" is not an http(s) URL"
        }
    }
}
