import Foundation

/// Who holds a campaign: one process at a time sends it.
public struct LeaseOwner: Sendable {
    public let token: String
    public let pid: Int
    public let host: String

    public init(token: String = UUID().uuidString, pid: Int = Int(ProcessInfo.processInfo.processIdentifier),
                host: String = ProcessInfo.processInfo.hostName) {
        self.token = token
        self.pid = pid
        self.host = host
    }
}
