import Crypto
import Foundation
import HeraldTestSupport
#if canImport(Glibc)
import Glibc
#endif
import HeraldCore
import HeraldSettings
@testable import HeraldProviders
import Testing

/// SigV4 against AWS's published examples, and the AWS adapter against a loopback
/// server that checks the wire format and recomputes the signature.
@Suite struct SigV4Tests {
    let exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    @Test func s3GetObjectExampleFromTheAWSDocumentation() {
        let signer = SigV4(credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: exampleSecret),
                           region: "us-east-1", service: "s3")
        let date = ISO8601DateFormatter().date(from: "2013-05-24T00:00:00Z")!
        let headers = [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ]
        let canonical = signer.canonical(method: "GET", path: "/test.txt", query: "",
                                         headers: headers + [("x-amz-date", "20130524T000000Z")], payload: [])
        #expect(canonical.request == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        let added = signer.sign(method: "GET", path: "/test.txt", headers: headers, payload: [], date: date)
        let authorization = added.first { $0.0 == "Authorization" }?.1
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func signingKeyFromThePostPolicyExample() {
        let signer = SigV4(credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: exampleSecret),
                           region: "us-east-1", service: "s3")
        let policy = "eyAiZXhwaXJhdGlvbiI6ICIyMDEzLTA4LTA3VDEyOjAwOjAwLjAwMFoiLA0KI"
            + "CAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJleGFtcGxlYnVja2V0In0sD"
            + "QogICAgWyJzdGFydHMtd2l0aCIsICIka2V5IiwgInVzZXIvdXNlcjEvIl0sDQogICAge"
            + "yJhY2wiOiAicHVibGljLXJlYWQifSwNCiAgICB7InN1Y2Nlc3NfYWN0aW9uX3JlZGlyZ"
            + "WN0IjogImh0dHA6Ly9leGFtcGxlYnVja2V0LnMzLmFtYXpvbmF3cy5jb20vc3VjY2Vzc"
            + "2Z1bF91cGxvYWQuaHRtbCJ9LA0KICAgIFsic3RhcnRzLXdpdGgiLCAiJENvbnRlbnQtV"
            + "HlwZSIsICJpbWFnZS8iXSwNCiAgICB7IngtYW16LW1ldGEtdXVpZCI6ICIxNDM2NTEyM"
            + "zY1MTI3NCJ9LA0KICAgIFsic3RhcnRzLXdpdGgiLCAiJHgtYW16LW1ldGEtdGFnIiwgI"
            + "iJdLA0KDQogICAgeyJ4LWFtei1jcmVkZW50aWFsIjogIkFLSUFJT1NGT0ROTjdFWEFNU"
            + "ExFLzIwMTMwODA2L3VzLWVhc3QtMS9zMy9hd3M0X3JlcXVlc3QifSwNCiAgICB7IngtY"
            + "W16LWFsZ29yaXRobSI6ICJBV1M0LUhNQUMtU0hBMjU2In0sDQogICAgeyJ4LWFtei1kY"
            + "XRlIjogIjIwMTMwODA2VDAwMDAwMFoiIH0NCiAgXQ0KfQ=="
        let signature = HMAC<SHA256>.authenticationCode(for: Array(policy.utf8), using: signer.signingKey(day: "20130806"))
        #expect(SigV4.hex(signature) == "21496b44de44ccb73d545f1a995c68214c9cb0d41c45a17a5daeec0b1a6db047")
    }

    @Test func pathsAndQueriesAreCanonicalised() {
        #expect(SigV4.canonicalPath("/a b/ü") == "/a%20b/%C3%BC")
        #expect(SigV4.canonicalQuery("b=2&a=1&a=0&c") == "a=0&a=1&b=2&c=")
    }
}

@Suite struct AWSProviderTests {
    static let environment = ProviderTestValues.awsEnvironment

    func provider(_ server: LoopbackServer, _ configure: (inout AWSConfiguration) -> Void = { _ in }) throws -> AWSProvider {
        var configuration = AWSConfiguration()
        configuration.region = "eu-west-1"
        configuration.endpoint = server.url
        configure(&configuration)
        return try AWSProvider(configuration: configuration, environment: Self.environment,
                               transport: AsyncHTTPClientTransport(maxConnections: 4, requestTimeout: .seconds(5)))
    }

    func message(_ digits: UInt64 = 447700900123, dryRun: Bool = false) -> OutboundMessage {
        OutboundMessage(campaign: "spring", row: 7, destination: PhoneNumber(digits: digits, region: "GB"),
                        body: "Hi \"Ada\", code AB12", parts: 1, dryRun: dryRun)
    }

    /// Recomputes the signature from the bytes the server received.
    static func signatureMatches(_ request: LoopbackServer.Request) -> Bool { ProviderTestValues.awsSignatureMatches(request) }

    @Test func sendTextMessageOnTheWire() async throws {
        let server = try await LoopbackServer { _ in .respond(status: 200, body: #"{"MessageId":"m-1"}"#) }
        let aws = try provider(server) {
            $0.originationIdentity = "+447700900000"
            $0.configurationSet = "marketing"
            $0.messageType = "TRANSACTIONAL"
            $0.ttlSeconds = 3600
            $0.maxPrice = "0.05"
            $0.context = ["team": "growth"]
        }
        let outcome = await aws.send(message())
        #expect(outcome == .accepted(providerRef: "m-1"))
        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.uri == "/")
        #expect(request.header("Content-Type") == "application/x-amz-json-1.0")
        #expect(request.header("X-Amz-Target") == "PinpointSMSVoiceV2.SendTextMessage")
        #expect(request.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") == true)
        #expect(request.header("Authorization")?.contains("/eu-west-1/sms-voice/aws4_request") == true)
        #expect(Self.signatureMatches(request))
        let json = request.json
        #expect(json["DestinationPhoneNumber"] as? String == "+447700900123")
        #expect(json["MessageBody"] as? String == "Hi \"Ada\", code AB12")
        #expect(json["OriginationIdentity"] as? String == "+447700900000")
        #expect(json["ConfigurationSetName"] as? String == "marketing")
        #expect(json["MessageType"] as? String == "TRANSACTIONAL")
        #expect(json["TimeToLive"] as? Int == 3600)
        #expect(json["MaxPrice"] as? String == "0.05")
        #expect(json["Context"] as? [String: String] == ["campaign": "spring", "herald_row": "7", "team": "growth"])
        #expect(json["DryRun"] == nil)
        _ = await aws.send(message(dryRun: true))
        #expect(server.requests.last?.json["DryRun"] as? Bool == true)
        await aws.shutdown()
        try await server.shutdown()
    }

    @Test(arguments: [
        (400, #"{"__type":"ThrottlingException","message":"slow down"}"#, [("Retry-After", "2")],
         SendOutcome.throttled(retryAfter: .seconds(2))),
        (400, #"{"__type":"com.amazonaws#ValidationException","Reason":"PRICE_OVER_THRESHOLD","Message":"too dear"}"#, [],
         .overMaxPrice(reason: "ValidationException: PRICE_OVER_THRESHOLD: too dear")),
        (400, #"{"__type":"ValidationException","Reason":"INVALID_PARAMETER","Message":"bad"}"#, [],
         .permanent(reason: "ValidationException: INVALID_PARAMETER: bad")),
        (402, #"{"__type":"ServiceQuotaExceededException","Reason":"MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT","Message":"limit"}"#, [],
         .spendLimit(reason: "ServiceQuotaExceededException: MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT: limit")),
        (403, #"{"__type":"AccessDeniedException","Message":"no"}"#, [], .campaignRefused(reason: "AccessDeniedException: no")),
        (400, #"{"__type":"ResourceNotFoundException","Message":"unknown pool"}"#, [],
         .campaignRefused(reason: "ResourceNotFoundException: unknown pool")),
        (400, #"{"__type":"ConflictException","Reason":"DESTINATION_PHONE_NUMBER_OPTED_OUT"}"#, [],
         .optedOut(reason: "ConflictException: DESTINATION_PHONE_NUMBER_OPTED_OUT")),
        (500, #"{"__type":"InternalServerException","Message":"oops"}"#, [], .transient(reason: "InternalServerException: oops")),
        (503, "", [], .transient(reason: "HTTP 503")),
    ] as [(Int, String, [(String, String)], SendOutcome)])
    func errorsMapByTypeAndReason(status: Int, body: String, headers: [(String, String)], expected: SendOutcome) async throws {
        let server = try await LoopbackServer { _ in .respond(status: status, headers: headers, body: body) }
        let aws = try provider(server)
        #expect(await aws.send(message()) == expected)
        await aws.shutdown()
        try await server.shutdown()
    }

    @Test func aConnectionClosedAfterTheRequestLeavesItInDoubt() async throws {
        let server = try await LoopbackServer { _ in .close }
        let aws = try provider(server)
        guard case .indeterminate = await aws.send(message()) else {
            Issue.record("a request that may have arrived must be in doubt")
            return
        }
        await aws.shutdown()
        try await server.shutdown()
    }

    @Test func aRefusedConnectionIsSafeToRetry() async throws {
        // A port bound but not listening refuses connections, and no other test can take it meanwhile.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        #expect(bound)
        var configuration = AWSConfiguration()
        configuration.region = "eu-west-1"
        configuration.endpoint = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let aws = try AWSProvider(configuration: configuration, environment: Self.environment,
                                  transport: AsyncHTTPClientTransport(maxConnections: 1, connectTimeout: .milliseconds(500)))
        let outcome = await aws.send(message())
        await aws.shutdown()
        guard case .unreached = outcome else {
            Issue.record("a request that never left is unreached (safe to retry, and to send through another provider), got \(outcome)")
            return
        }
    }

    @Test func spendLimitsAreReadPageByPage() async throws {
        let server = try await LoopbackServer { request in
            request.json["NextToken"] == nil
                ? .respond(status: 200, body: #"{"SpendLimits":[{"Name":"TEXT_MESSAGE_MONTHLY_SPEND_LIMIT","EnforcedLimit":100,"MaxLimit":1000,"Overridden":true}],"NextToken":"p2"}"#)
                : .respond(status: 200, body: #"{"SpendLimits":[{"Name":"VOICE_MESSAGE_MONTHLY_SPEND_LIMIT","EnforcedLimit":10,"MaxLimit":10,"Overridden":false}]}"#)
        }
        let aws = try provider(server)
        let limits = try await aws.describeSpendLimits()
        #expect(limits == [
            AWSSpendLimit(name: "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT", enforcedLimit: 100, maxLimit: 1000, overridden: true),
            AWSSpendLimit(name: "VOICE_MESSAGE_MONTHLY_SPEND_LIMIT", enforcedLimit: 10, maxLimit: 10, overridden: false),
        ])
        #expect(server.requests.map { $0.header("X-Amz-Target") } == Array(repeating: "PinpointSMSVoiceV2.DescribeSpendLimits", count: 2))
        #expect(server.requests.last?.json["NextToken"] as? String == "p2")
        #expect(server.requests.allSatisfy(Self.signatureMatches))
        await aws.shutdown()
        try await server.shutdown()
    }

    @Test func missingCredentialsOrRegionAreSaidBeforeSending() throws {
        let transport = AsyncHTTPClientTransport(maxConnections: 1)
        defer { Task { await transport.shutdown() } }
        #expect(throws: AWSSetupError.self) {
            try AWSProvider(configuration: AWSConfiguration(), environment: AWSEnvironment(["HOME": "/nonexistent"]),
                            transport: transport)
        }
        var configuration = AWSConfiguration()
        configuration.region = "eu-west-1"
        let error = #expect(throws: AWSSetupError.self) {
            try AWSProvider(configuration: configuration, environment: AWSEnvironment(["HOME": "/nonexistent"]),
                            transport: transport)
        }
        #expect(error?.description.contains("no AWS credentials") == true)
    }

    @Test func credentialsAndRegionComeFromAProfile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = s2\naws_session_token = t2\n"
            .write(to: folder.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        try "[profile ops]\nregion = ap-southeast-2\n".write(to: folder.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let environment = AWSEnvironment([
            "AWS_PROFILE": "ops", "AWS_SHARED_CREDENTIALS_FILE": folder.appendingPathComponent("credentials").path,
            "AWS_CONFIG_FILE": folder.appendingPathComponent("config").path,
        ])
        #expect(environment.credentials()?.accessKeyID == "AKIDOPS")
        #expect(environment.credentials()?.sessionToken == "t2")
        #expect(environment.region() == "ap-southeast-2")
        #expect(!"\(environment.credentials()!)".contains("s2"), "the secret never shows")
    }
}
