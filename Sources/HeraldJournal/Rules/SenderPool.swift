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
        /// Its provider's name: a recipient's remembered identity is kept per provider.
        public let provider: String
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
            self.provider = provider
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

    /// The identity of this pool a recipient was last sent from, among `remembered` (the
    /// identity keys the journal remembers for the number, one per provider), if the pool holds it.
    public func recalled(_ remembered: [String]) -> Int? {
        guard !remembered.isEmpty else { return nil }
        return identities.firstIndex { remembered.contains($0.key) }
    }

    /// The identities in the order recipient `destination` prefers them when nothing is
    /// remembered for it (`SenderMemory`): sticky sender by
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

/// Which identity a claimed row sends from: the one recorded on it when an earlier attempt may
/// have got through (a resend goes from the same identity, as its first request did); else the
/// identity its recipient was last sent from by this provider, in any campaign (`SenderMemory`),
/// while the pool holds it and its daily cap admits the row; else the first of its preference
/// (`SenderPool.preference`) whose cap admits it. Usage is counted per identity and UTC day,
/// from what the journal held when the step began.
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
    /// `recorded` is the identity stored on the row (an index into the pool), kept when `doubted`;
    /// `remembered` the identity keys the journal remembers for the number.
    public func choose(_ pool: SenderPool, destination: UInt64, region: String?, units: Int,
                       recorded: Int?, doubted: Bool, remembered: [String] = []) -> Int? {
        if doubted, let recorded, pool.identities.indices.contains(recorded) { return recorded }
        if let index = pool.recalled(remembered), admits(pool.identities[index], units: units) { return index }
        return pool.preference(destination: destination, region: region).first { admits(pool.identities[$0], units: units) }
    }

    private func admits(_ identity: SenderPool.Identity, units: Int) -> Bool {
        guard let cap = identity.dailyCap else { return true }
        return (used[identity.key] ?? 0) + units <= cap
    }

    /// Counts `units` against the identity's day.
    public mutating func take(_ identity: SenderPool.Identity, units: Int) {
        guard identity.dailyCap != nil else { return }
        used[identity.key, default: 0] += units
        added[identity.key, default: 0] += units
    }
}

/// Sticky sender across campaigns: the identity each recipient was last sent from, per
/// provider, kept in the journal (`sender_memory`). A claim reads what is remembered for its
/// candidates' numbers and writes what changed: a recipient keeps its identity while the pool
/// holds it and its cap admits the row, whatever identities join the pool or how their rates
/// change. Only real sends are remembered (a simulation or dry run reads, never writes); a
/// purged campaign's entries go with its numbers.
public struct SenderMemory: Sendable, Equatable, Hashable {
    public let destination: UInt64
    /// The provider's name (`SenderPool.Identity.provider`): one identity per recipient and provider.
    public let provider: String
    /// The identity's key (`SenderPool.Identity.key`).
    public let identity: String

    public init(destination: UInt64, provider: String, identity: String) {
        self.destination = destination
        self.provider = provider
        self.identity = identity
    }

    /// What a store writes for `memories`: the last of each number and provider, in the order
    /// of number then provider (one lock order for every writer of a shared journal).
    public static func latest(_ memories: [SenderMemory]) -> [SenderMemory] {
        var last: [SenderMemory.Slot: SenderMemory] = [:]
        for memory in memories { last[Slot(destination: memory.destination, provider: memory.provider)] = memory }
        return last.values.sorted { ($0.destination, $0.provider) < ($1.destination, $1.provider) }
    }

    struct Slot: Hashable {
        let destination: UInt64
        let provider: String
    }

    /// An identity key read back from a journal, if it is one a pool could hold (a provider's
    /// name, a colon, an id; at most 200 characters): anything else is never matched.
    public static func checked(_ stored: String?) -> String? {
        guard let stored, stored.utf8.count <= 200, let colon = stored.firstIndex(of: ":"),
              colon != stored.startIndex, stored.index(after: colon) != stored.endIndex else { return nil }
        return stored
    }
}

/// What a journal remembers (`SenderMemory`) for the identities of a campaign's pools, every
/// number at once, kept compact (a number and an index into `identities`): `estimate` reads it
/// once and looks up each row, so its count per identity is what a claim would choose. Only
/// these identities matter: one the pools do not hold is never chosen for being remembered.
public struct SenderRecall: Sendable {
    /// The identity keys asked for, in the order the indices name them.
    public let identities: [String]
    private var first: [UInt64: UInt16] = [:]
    /// Numbers remembered with more than one of them (one per provider).
    private var more: [UInt64: [UInt16]] = [:]

    /// At most `UInt16.max` identities (a pool holds at most 64, a campaign 32 providers).
    public init(identities: [String]) {
        var seen = Set<String>()
        self.identities = Array(identities.filter { seen.insert($0).inserted }.prefix(Int(UInt16.max)))
    }

    public var isEmpty: Bool { first.isEmpty }

    /// Adds that `destination` was last sent from `identities[index]` (ignored when out of range).
    public mutating func add(_ destination: UInt64, _ index: Int) {
        guard identities.indices.contains(index) else { return }
        let index = UInt16(index)
        if first[destination] == nil { first[destination] = index } else { more[destination, default: []].append(index) }
    }

    /// The identity keys remembered for `destination`.
    public func keys(for destination: UInt64) -> [String] {
        guard let index = first[destination] else { return [] }
        return [identities[Int(index)]] + (more[destination] ?? []).map { identities[Int($0)] }
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
