import Foundation
import HeraldCore

/// The sender identities one provider of a campaign sends from (`senders:` in its entry):
/// AWS origination identities or pool ids, Twilio `From` numbers. Carriers limit each
/// identity, not each campaign, so each has its own rate and an optional daily cap, counted
/// in the journal across every campaign and process that sends from it.
public struct SenderPool: Sendable, Equatable {
    public struct Identity: Sendable, Equatable {
        /// What the provider is told (the `From` number, the origination identity).
        public let id: String
        /// The identity across campaigns: its provider's name and `id` (`twilio:+15550100`).
        /// Daily counts and shared rate buckets are kept under it.
        public let key: String
        /// Its rate (SMS parts per second, else messages), nil: only the campaign's.
        public let messagesPerSecond: Double?
        /// Units it may send at once on top of its rate after a quiet spell (as the campaign's `burst`).
        public let burst: Double
        /// Units (as the rate counts them) it may send per UTC day; nil: no cap.
        public let dailyCap: Int?
        /// Its country (ISO 3166 alpha-2), for geomatch.
        public let country: String?

        public init(id: String, provider: String, messagesPerSecond: Double? = nil, burst: Double = 0, dailyCap: Int? = nil,
                    country: String? = nil) {
            self.id = id
            self.burst = burst
            self.key = provider + ":" + id
            self.messagesPerSecond = messagesPerSecond
            self.dailyCap = dailyCap
            self.country = country
        }

        /// Its share of the recipients: its rate, so a faster identity takes more of them.
        var weight: Double { max(messagesPerSecond ?? 1, 0.001) }
    }

    public let identities: [Identity]
    /// Prefer an identity of the recipient's country when there is one.
    public let geomatch: Bool

    public init(identities: [Identity], geomatch: Bool = false) {
        self.identities = identities
        self.geomatch = geomatch
    }

    /// At most this many identities in one pool.
    public static let limit = 64

    public var hasCaps: Bool { identities.contains { $0.dailyCap != nil } }

    /// The identities in the order recipient `destination` prefers them: sticky sender by
    /// weighted rendezvous hashing (each identity scores the number; the highest wins), so a
    /// recipient gets the same identity in every campaign whose pool holds it, and an
    /// identity added to the pool takes over only the recipients it now wins (its share,
    /// never a reshuffle of the rest). With geomatch, identities of the number's country come
    /// first.
    public func preference(destination: UInt64, region: String?) -> [Int] {
        let scores = identities.map { Self.score(destination: destination, identity: $0) }
        let local = geomatch ? region : nil
        return identities.indices.sorted { a, b in
            if let local {
                let aLocal = identities[a].country == local, bLocal = identities[b].country == local
                if aLocal != bLocal { return aLocal }
            }
            return scores[a] != scores[b] ? scores[a] > scores[b] : a < b
        }
    }

    /// Weighted rendezvous score: weight / -ln(u), u uniform in (0, 1) from the number and the
    /// identity's key. The same on every machine and in every process.
    static func score(destination: UInt64, identity: Identity) -> Double {
        let mixed = RouteRule.mix(destination ^ Self.fnv1a(identity.key))
        let unit = (Double(mixed >> 11) + 0.5) / 9_007_199_254_740_992.0  // 2^53
        return identity.weight / -Foundation.log(unit)
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

/// Which identity a claimed row sends from: the first of its preference (`SenderPool.preference`)
/// whose daily cap admits it, or the one recorded on it when an earlier attempt may have got
/// through (a resend goes from the same identity, as its first request did). Usage is
/// counted per identity and UTC day, from what the journal held when the step began.
public struct SenderChoice: Sendable {
    /// The UTC day (days since 1970) the counts are for.
    public let day: Int
    /// Units used today by identity key, as read from the journal plus this step's choices.
    public private(set) var used: [String: Int]
    /// What this step added, by identity key: the store adds it to the journal's counts.
    public private(set) var added: [String: Int] = [:]

    public init(time: Int64, used: [String: Int]) {
        day = Self.day(of: time)
        self.used = used
    }

    public static func day(of time: Int64) -> Int { Int(clamping: time / 86_400_000) - (time % 86_400_000 < 0 ? 1 : 0) }

    /// The start of the next UTC day (ms since 1970): when a capped pool takes rows again.
    public var nextDay: Int64 { Int64(day + 1) * 86_400_000 }

    /// The identity for the row, or nil when every identity it may use reached its cap today.
    /// `recorded` is the identity stored on the row (an index into the pool), kept when `doubted`.
    public func choose(_ pool: SenderPool, destination: UInt64, region: String?, units: Int,
                       recorded: Int?, doubted: Bool) -> Int? {
        if doubted, let recorded, pool.identities.indices.contains(recorded) { return recorded }
        for index in pool.preference(destination: destination, region: region) {
            let identity = pool.identities[index]
            guard let cap = identity.dailyCap else { return index }
            if (used[identity.key] ?? 0) + units <= cap { return index }
        }
        return nil
    }

    /// Counts `units` against the identity's day.
    public mutating func take(_ identity: SenderPool.Identity, units: Int) {
        guard identity.dailyCap != nil else { return }
        used[identity.key, default: 0] += units
        added[identity.key, default: 0] += units
    }
}

/// A sender read back from a journal: an index into its route's pool (at most
/// `SenderPool.limit`), or nil for anything else.
public enum SenderIndex {
    public static func checked(_ stored: Int64?) -> Int? {
        guard let stored, stored >= 0, stored < Int64(SenderPool.limit) else { return nil }
        return Int(stored)
    }
}
