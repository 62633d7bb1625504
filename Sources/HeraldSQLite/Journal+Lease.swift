import Foundation
import HeraldJournal

extension LeaseOwner {
    /// The rule is `LeaseLiveness`'s; this host answers whether a process exists.
    func considersLive(token: String?, pid: Int?, host: String?, heartbeat: Int64?, now: Int64) -> Bool {
        LeaseLiveness.isLive(.init(token: token, pid: pid, host: host, heartbeat: heartbeat), against: self, now: now) { pid in
            kill(pid_t(pid), 0) == 0 || errno == EPERM
        }
    }
}
