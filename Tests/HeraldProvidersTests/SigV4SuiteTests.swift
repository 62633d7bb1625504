import Crypto
import Foundation
import Testing
@testable import HeraldProviders

/// The AWS signing test suite (v4, header signing), as published in awslabs/aws-c-auth:
/// Fixtures/aws-signing-test-suite-v4 (see its NOTICE).
@Suite struct SigV4SuiteTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/aws-signing-test-suite-v4")

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0 != "NOTICE" }.sorted()
    }

    struct Context: Decodable {
        struct Credentials: Decodable {
            let access_key_id: String
            let secret_access_key: String
            let token: String?
        }
        let credentials: Credentials
        let region: String
        let service: String
        let timestamp: String
        let sign_body: Bool
    }

    func read(_ name: String, _ file: String) throws -> String {
        try String(contentsOf: Self.folder.appendingPathComponent(name).appendingPathComponent(file), encoding: .utf8)
    }

    @Test func theSuiteIsThere() {
        #expect(Self.cases.count == 21)
    }

    @Test(arguments: cases)
    func headerSigningMatchesTheSuite(_ name: String) throws {
        let context = try JSONDecoder().decode(Context.self, from: Data(try read(name, "context.json").utf8))
        let request = try read(name, "request.txt")
        let (head, body) = request.range(of: "\n\n").map { (String(request[..<$0.lowerBound]), String(request[$0.upperBound...])) }
            ?? (request, "")
        let lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines[0].split(separator: " ")
        let method = String(requestLine[0])
        let target = String(requestLine[1])
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
        let query = target.contains("?") ? String(target.split(separator: "?", maxSplits: 1)[1]) : ""
        var headers = lines.dropFirst().filter { !$0.isEmpty }.map { line -> (String, String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), String(line[line.index(after: colon)...]))
        }
        if context.sign_body {
            // The suite's "sign body" cases carry the payload hash as a header too.
            headers.append(("X-Amz-Content-Sha256", SigV4.hex(SHA256.hash(data: Array(body.utf8)))))
        }
        let signer = SigV4(credentials: AWSCredentials(accessKeyID: context.credentials.access_key_id,
                                                       secretAccessKey: context.credentials.secret_access_key,
                                                       sessionToken: context.credentials.token),
                           region: context.region, service: context.service)
        let date = ISO8601DateFormatter().date(from: context.timestamp)!
        var signedHeaders = headers + [("X-Amz-Date", SigV4.amzDate(date))]
        if let token = context.credentials.token { signedHeaders.append(("X-Amz-Security-Token", token)) }
        let canonical = signer.canonical(method: method, path: path, query: query, headers: signedHeaders, payload: Array(body.utf8))
        #expect(canonical.request == (try read(name, "header-canonical-request.txt")), "\(name)")
        let added = signer.sign(method: method, path: path, query: query, headers: headers, payload: Array(body.utf8), date: date)
        let signature = added.first { $0.0 == "Authorization" }?.1.components(separatedBy: "Signature=").last
        #expect(signature == (try read(name, "header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines), "\(name)")
    }
}
