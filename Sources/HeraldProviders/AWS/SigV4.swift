import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// AWS Signature Version 4 for one request: canonical request, string to sign,
/// signing key and the headers that carry the signature.
public struct SigV4: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    /// The signing key changes once a day: derived once, reused for every request.
    private let keys = KeyCache()

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    final class KeyCache: Sendable {
        let entry = Mutex<(day: String, key: SymmetricKey)?>(nil)
    }

    /// The headers to add to the request: `X-Amz-Date`, `X-Amz-Security-Token` when
    /// the credentials have one, and `Authorization`. `headers` must hold `Host` and
    /// every other header that is to be signed.
    public func sign(method: String, path: String, query: String = "", headers: [(String, String)],
                     payload: [UInt8], date: Date) -> [(String, String)] {
        let amzDate = Self.amzDate(date)
        var signed = headers
        signed.append(("X-Amz-Date", amzDate))
        if let token = credentials.sessionToken { signed.append(("X-Amz-Security-Token", token)) }
        let parts = canonical(method: method, path: path, query: query, headers: signed, payload: payload)
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(parts.request.utf8))))"
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8),
                                                                using: cachedKey(day: String(amzDate.prefix(8)))))
        var added = [("X-Amz-Date", amzDate)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        added.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(parts.signedHeaders), Signature=\(signature)"))
        return added
    }

    /// The canonical request and the signed-headers list.
    func canonical(method: String, path: String, query: String, headers: [(String, String)], payload: [UInt8])
        -> (request: String, signedHeaders: String)
    {
        var byName: [String: [String]] = [:]
        for (name, value) in headers {
            let trimmed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            byName[name.lowercased(), default: []].append(trimmed)
        }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let request = [
            method, Self.canonicalPath(path), Self.canonicalQuery(query), canonicalHeaders, signedHeaders,
            Self.hex(SHA256.hash(data: payload)),
        ].joined(separator: "\n")
        return (request, signedHeaders)
    }

    private func cachedKey(day: String) -> SymmetricKey {
        if let entry = keys.entry.withLock({ $0 }), entry.day == day { return entry.key }
        let key = signingKey(day: day)
        keys.entry.withLock { $0 = (day, key) }
        return key
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// `20150830T123600Z`, from the system's UTC calendar (gmtime_r), no formatter.
    static func amzDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// The (unencoded) path normalised as every service but S3 expects (`.` and `..`
    /// segments resolved, repeated slashes collapsed), then each segment URI-encoded
    /// with the RFC 3986 unreserved characters kept.
    static func canonicalPath(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                _ = segments.popLast()
                continue
            }
            segments.append(segment)
        }
        let trailing = path.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return "/" + segments.map { uriEncode(String($0)) }.joined(separator: "/") + trailing
    }

    /// Parameters sorted by name then value, names and values URI-encoded.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(name: String, value: String)] = []
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let rawName = String(parts[0])
            let rawValue = parts.count > 1 ? String(parts[1]) : ""
            pairs.append((uriEncode(rawName.removingPercentEncoding ?? rawName),
                          uriEncode(rawValue.removingPercentEncoding ?? rawValue)))
        }
        pairs.sort { $0.name == $1.name ? $0.value < $1.value : $0.name < $1.name }
        return pairs.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    static func uriEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
