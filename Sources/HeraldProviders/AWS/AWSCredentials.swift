import Foundation

/// AWS credentials, from the environment or the shared credentials/config files.
/// Never logged, never written to the journal; `description` hides the secret.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret hidden)" }
}

/// Where credentials and region come from, in the AWS SDKs' order:
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, then the
/// profile `AWS_PROFILE` (default `default`) in `AWS_SHARED_CREDENTIALS_FILE` and
/// `AWS_CONFIG_FILE` (defaults `~/.aws/credentials`, `~/.aws/config`).
public struct AWSEnvironment: Sendable {
    let environment: [String: String]

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    var profile: String { environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default" }

    private var home: String { environment["HOME"] ?? NSHomeDirectory() }

    public func credentials() -> AWSCredentials? {
        if let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
            !id.isEmpty, !secret.isEmpty
        {
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
        }
        let file = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let section = Self.ini(path: file)[profile] ?? Self.ini(path: configPath)["profile \(profile)"]
            ?? (profile == "default" ? Self.ini(path: configPath)["default"] : nil)
        guard let section, let id = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] else {
            return nil
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: section["aws_session_token"])
    }

    /// `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
    public func region() -> String? {
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = environment[name], !value.isEmpty { return value }
        }
        let config = Self.ini(path: configPath)
        return (config[profile == "default" ? "default" : "profile \(profile)"] ?? config["profile \(profile)"])?["region"]
    }

    /// `AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2`, then `AWS_ENDPOINT_URL`.
    public func endpoint() -> String? {
        for name in ["AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2", "AWS_ENDPOINT_URL"] {
            if let value = environment[name], !value.isEmpty { return value }
        }
        return nil
    }

    private var configPath: String { environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config" }

    /// Sections of an INI file: `[name]` then `key = value` lines.
    static func ini(path: String) -> [String: [String: String]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var sections: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[current, default: [:]][key] = value
        }
        return sections
    }
}
