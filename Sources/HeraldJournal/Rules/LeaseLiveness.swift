import HeraldCore

/// Whether another sender's lease on a campaign is still live, as a store decides it when a
/// sender opens the campaign. A SQLite journal lives on one machine's disk: a holder on this
/// host is live while its process exists, however long it has been silent (a frozen process,
/// SIGSTOP or a suspended container, keeps it; a killed one loses it at once), and a holder on
/// another host (a shared disk) while its heartbeat is younger than `staleAfter`. PostgreSQL's
/// senders share a campaign across hosts, so only the heartbeat counts there, on the server's
/// clock (`lease_timeout`), and a frozen sender is fenced off by epochs (`Fencing`).
public enum LeaseLiveness {
    /// How long a SQLite lease held from another host stays live after its last heartbeat.
    public static let staleAfterMilliseconds: Int64 = 30_000

    /// The holder's columns as the journal keeps them.
    public struct Holder: Sendable, Equatable {
        public var token: String?
        public var pid: Int?
        public var host: String?
        public var heartbeat: Int64?

        public init(token: String?, pid: Int?, host: String?, heartbeat: Int64?) {
            self.token = token
            self.pid = pid
            self.host = host
            self.heartbeat = heartbeat
        }
    }

    /// On SQLite: whether `holder` keeps the lease against `owner` at `now`. `processExists`
    /// asks this host whether a process id is alive (only asked for a holder on this host).
    public static func isLive(_ holder: Holder, against owner: LeaseOwner, now: Int64, processExists: (Int) -> Bool) -> Bool {
        guard let token = holder.token, token != owner.token, let pid = holder.pid, let host = holder.host,
              let heartbeat = holder.heartbeat else { return false }
        if host == owner.host { return processExists(pid) }
        return now - heartbeat < staleAfterMilliseconds
    }
}
