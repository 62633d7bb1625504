import Foundation
import HeraldJournal

extension LeaseOwner {
    /// A lease held by someone else stays live while its heartbeat is fresh and,
    /// on this host, while its process exists. A killed process's lease is taken
    /// over at once; one on another host after `staleAfter` without a heartbeat.
    static let staleAfterMilliseconds: Int64 = 30_000

    func considersLive(token: String?, pid: Int?, host: String?, heartbeat: Int64?, now: Int64) -> Bool {
        guard let token, token != self.token, let pid, let host, let heartbeat else { return false }
        guard now - heartbeat < Self.staleAfterMilliseconds else { return false }
        if host == self.host { return kill(pid_t(pid), 0) == 0 || errno == EPERM }
        return true
    }
}
