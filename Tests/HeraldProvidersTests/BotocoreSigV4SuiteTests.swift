import Foundation
import Testing
@testable import HeraldProviders

/// The SigV4 test suite as botocore ships it (`tests/unit/auth/aws4_testsuite`, see
/// its NOTICE and LICENSE): raw requests (`.req`) with the canonical request
/// (`.creq`), string to sign (`.sts`) and Authorization header (`.authz`) expected.
@Suite struct BotocoreSigV4SuiteTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/botocore-aws4-testsuite")
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    /// Every folder holding a `.req`, as a path relative to the suite.
    static var cases: [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".req") }
            .map { ($0 as NSString).deletingLastPathComponent }.sorted()
    }

    func read(_ name: String, _ suffix: String) throws -> String {
        let base = (name as NSString).lastPathComponent
        return try String(contentsOf: Self.folder.appendingPathComponent(name).appendingPathComponent(base + suffix), encoding: .utf8)
    }

    @Test func theSuiteIsThere() {
        #expect(Self.cases.count == 34)
    }

    @Test(arguments: cases)
    func signingMatchesTheSuite(_ name: String) throws {
        let raw = try read(name, ".req")
        let (head, body) = raw.range(of: "\n\n").map { (String(raw[..<$0.lowerBound]), String(raw[$0.upperBound...])) } ?? (raw, "")
        let lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // "GET /example space/ HTTP/1.1": the target may hold spaces.
        let requestLine = lines[0]
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
        let query = target.contains("?") ? String(target.split(separator: "?", maxSplits: 1)[1]) : ""
        var headers: [(String, String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            if line.first == " " || line.first == "\t", let last = headers.popLast() {
                // A folded header line continues the previous value.
                headers.append((last.0, last.1 + " " + line.trimmingCharacters(in: .whitespaces)))
                continue
            }
            let colon = line.firstIndex(of: ":")!
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        // The signer adds X-Amz-Date, and the session token when it signs one.
        // The token is in the request, or (get-vanilla-with-session-token) only in the signed one.
        let signedRequest = try read(name, ".sreq")
        let token = headers.first { $0.0.lowercased() == "x-amz-security-token" }?.1
            ?? signedRequest.split(separator: "\n").first { $0.lowercased().hasPrefix("x-amz-security-token:") }
                .map { String($0.drop { $0 != ":" }.dropFirst()) }
        let signsToken = try read(name, ".creq").contains("x-amz-security-token")
        headers.removeAll { ["x-amz-date", "x-amz-security-token"].contains($0.0.lowercased()) }
        let credentials = AWSCredentials(accessKeyID: Self.credentials.accessKeyID,
                                         secretAccessKey: Self.credentials.secretAccessKey,
                                         sessionToken: signsToken ? token : nil)
        let signer = SigV4(credentials: credentials, region: "us-east-1", service: "service")
        let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
        var signed = headers + [("X-Amz-Date", SigV4.amzDate(date))]
        if let token = credentials.sessionToken { signed.append(("X-Amz-Security-Token", token)) }
        let canonical = signer.canonical(method: method, path: path, query: query, headers: signed, payload: Array(body.utf8))
        #expect(canonical.request == (try read(name, ".creq")), "\(name)")
        let added = signer.sign(method: method, path: path, query: query, headers: headers, payload: Array(body.utf8), date: date)
        #expect(added.first { $0.0 == "Authorization" }?.1 == (try read(name, ".authz")), "\(name)")
        #expect(SigV4.hex(SHA256Hasher.digest(canonical.request)) == (try read(name, ".sts")).split(separator: "\n").last.map(String.init),
                "\(name): the string to sign ends with the canonical request's hash")
    }
}

import Crypto

enum SHA256Hasher {
    static func digest(_ text: String) -> SHA256.Digest { SHA256.hash(data: Array(text.utf8)) }
}
