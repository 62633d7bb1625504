import Foundation
import HeraldProviders

/// What the providers' wire tests (HeraldProvidersTests) and the whole campaigns through each
/// provider (HeraldEngineTests) share: fictional credentials, never a secret, and the answers a
/// loopback provider gives.
public enum ProviderTestValues {
    /// AWS's documented example keys.
    public static let awsEnvironment = AWSEnvironment(["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                                                       "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"])

    /// Whether a request to the loopback AWS endpoint carries the SigV4 signature it should
    /// (recomputed here over what arrived).
    public static func awsSignatureMatches(_ request: LoopbackServer.Request) -> Bool {
        guard let date = request.header("X-Amz-Date"), let authorization = request.header("Authorization"),
              let credentials = awsEnvironment.credentials() else { return false }
        let signer = SigV4(credentials: credentials, region: "eu-west-1", service: "sms-voice")
        let signed = ["Host", "Content-Type", "X-Amz-Target"].compactMap { name in request.header(name).map { (name, $0) } }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        formatter.timeZone = TimeZone(identifier: "UTC")
        guard let when = formatter.date(from: date) else { return false }
        let recomputed = signer.sign(method: request.method, path: request.uri, headers: signed, payload: request.body, date: when)
        return recomputed.first { $0.0 == "Authorization" }?.1 == authorization
    }

    public static let agileEnvironment = ["AGILE_API_KEY": "test-key-not-a-secret"]
    /// Agile Telecom's answer to an accepted RCS message.
    public static let agileAccepted = #"{"messageId":"srv-1","simulation":false,"results":{"rcs":{"accepted":true,"reasons":[]},"sms":null}}"#

    public static let v5Environment = ["V5_USERNAME": "herald", "V5_PASSWORD": "not-a-secret"]
    /// The `/v5/messages` answer to a queued message.
    public static let v5Queued = #"{"status":"success","message":"Message successfully queued","data":{"results":[{"messageGUID":"550e8400-e29b-41d4-a716-446655440000","destination":"447700900123","status":"success"}]}}"#
}
