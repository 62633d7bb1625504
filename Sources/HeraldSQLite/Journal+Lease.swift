import Foundation
import HeraldJournal

extension LeaseOwner {
    /// A lease held by someone else on this host stays live while its process exists,
    /// however long it has been silent: a frozen process (SIGSTOP, a suspended container)
    /// keeps it, and a killed one loses it at once. One on another host is live while its
    /// heartbeat is fresh, and taken over `staleAfter` after its last one (its steps are
    /// then refused: `Journal.step`).
    public static let staleAfterMilliseconds: Int64 = 30_000

    func considersLive(token: String?, pid: Int?, host: String?, heartbeat: Int64?, now: Int64) -> Bool {
        guard let token, token != self.token, let pid, let host, let heartbeat else { return false }
        if host == self.host { return kill(pid_t(pid), 0) == 0 || errno == EPERM }
        return now - heartbeat < Self.staleAfterMilliseconds
    }
}
