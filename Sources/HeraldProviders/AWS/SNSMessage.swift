import Foundation
import HeraldCore

/// An Amazon SNS HTTP(S) delivery: how an AWS event destination of type SNS reaches
/// `POST /receipts/sns/{token}`. The body is JSON; `Notification` carries one event
/// record as a JSON string in `Message`.
public struct SNSMessage: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case notification = "Notification"
        case subscriptionConfirmation = "SubscriptionConfirmation"
        case unsubscribeConfirmation = "UnsubscribeConfirmation"
    }

    public var kind: Kind
    public var messageID: String
    public var topicARN: String
    public var message: String
    public var timestamp: String
    public var signatureVersion: String
    public var signature: String
    public var signingCertURL: String
    public var subject: String?
    public var token: String?
    public var subscribeURL: String?

    public init(body: [UInt8]) throws(ReceiptParseError) {
        guard let tree = JSONTree.parse(body), case .object = tree else { throw ReceiptParseError("the body is not a JSON object") }
        func field(_ name: String) throws(ReceiptParseError) -> String {
            guard let value = tree[name]?.string else { throw ReceiptParseError("the SNS message has no \"\(name)\"") }
            return value
        }
        guard let kind = Kind(rawValue: try field("Type")) else {
            throw ReceiptParseError("unknown SNS message type \"\(tree["Type"]?.string ?? "")\"")
        }
        self.kind = kind
        messageID = try field("MessageId")
        topicARN = try field("TopicArn")
        message = try field("Message")
        timestamp = try field("Timestamp")
        signatureVersion = try field("SignatureVersion")
        signature = try field("Signature")
        signingCertURL = try field("SigningCertURL")
        subject = tree["Subject"]?.string
        token = tree["Token"]?.string
        subscribeURL = tree["SubscribeURL"]?.string
        if kind != .notification {
            guard token != nil, subscribeURL != nil else {
                throw ReceiptParseError("a \(kind.rawValue) needs \"Token\" and \"SubscribeURL\"")
            }
        }
    }

    /// The string SNS signs: "Name\nvalue\n" for each field, in this order, per type.
    public var stringToSign: String {
        var pairs: [(String, String?)] = [("Message", message), ("MessageId", messageID)]
        if kind == .notification {
            pairs.append(("Subject", subject))
        } else {
            pairs.append(("SubscribeURL", subscribeURL))
        }
        pairs.append(("Timestamp", timestamp))
        if kind != .notification { pairs.append(("Token", token)) }
        pairs += [("TopicArn", topicARN), ("Type", kind.rawValue)]
        var text = ""
        for (name, value) in pairs {
            guard let value else { continue }
            text += name + "\n" + value + "\n"
        }
        return text
    }

    /// Whether `url` is an https URL on an `sns.<region>.amazonaws.com` host (also
    /// `.amazonaws.com.cn`), with no user, no port other than 443: the only places SNS
    /// certificates and confirmation links may come from.
    public static func isSNSURL(_ url: String) -> Bool {
        guard let components = URLComponents(string: url), components.scheme == "https",
            components.user == nil, components.password == nil, components.port == nil || components.port == 443,
            let host = components.host?.lowercased()
        else { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let suffixOK = labels.count == 4 ? labels[2...] == ["amazonaws", "com"] : labels.count == 5 && labels[2...] == ["amazonaws", "com", "cn"]
        guard suffixOK, labels[0] == "sns" else { return false }
        return !labels[1].isEmpty && labels[1].allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } && labels[1].allSatisfy(\.isASCII)
    }
}
