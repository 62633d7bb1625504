import HeraldCore

/// What a sender needs of a journal. The SQLite `Journal` (one machine) and the
/// PostgreSQL journal (several senders on several machines) implement it; the engine
/// talks to this protocol only. Calls come from one thread at a time (the engine's
/// journal queue), and every method that changes rows commits before it returns.
public protocol CampaignJournal: AnyObject {
    /// How messages name the journal: a file path, or a URL without its password.
    var location: String { get }
    /// True when several processes may send one campaign at once, each claiming its own
    /// rows, with the rate paced in the journal (`ClaimedMessage.due`).
    var sharesCampaigns: Bool { get }
    /// Milliseconds since 1970 by the journal's clock.
    func currentTime() -> Int64

    func campaign(id: String, mode: RunMode) throws(JournalError) -> CampaignRecord?
    func campaigns() throws(JournalError) -> [CampaignRecord]
    /// Takes (or, on a shared journal, joins) the campaign, creating it if new.
    func open(_ inputs: CampaignInputs, owner: LeaseOwner, recipientsPath: String, templatePath: String,
              unpause: Bool) throws(JournalError) -> CampaignOpening
    func makeImporter(cid: Int64) throws(JournalError) -> any RowImporter
    func discardImport(cid: Int64) throws(JournalError)
    func discardCampaign(id: String, mode: RunMode) throws(JournalError)

    func step(cid: Int64, owner: LeaseOwner, settle: [Settlement], claim: Int, cursor: inout ClaimCursor,
              budget: BudgetContext?, gate: SendGate?, sender: SenderScopes, rate: SharedRate?) throws(JournalError) -> StepResult
    func nextRetry(cid: Int64) throws(JournalError) -> Int64?
    /// RCS fallback (`RCSFallbackRule`): the rows of campaign `cid` that receipts taken after
    /// receipt `after` name with one of `proof`'s events, still sent on one of `routes` with a
    /// failed delivery; and the last receipt read (the next pass starts there).
    func fallbackCandidates(cid: Int64, proof: RCSFailureProof, routes: [Int],
                            after: Int64) throws(JournalError) -> (rows: [FallbackCandidate], last: Int64)
    /// Moves each row to its SMS route while `RCSFallbackRule.mayMove` still holds for it (read
    /// again, locked, in one transaction), with its counters; returns how many moved.
    func fallBack(cid: Int64, _ moves: [FallbackMove]) throws(JournalError) -> Int
    /// How many rows of campaign `cid` sent on one of `routes` have no final delivery yet (a
    /// pass over the campaign's rows).
    func awaitingReceipts(cid: Int64, routes: [Int]) throws(JournalError) -> Int
    /// The rows not yet sent by their time zones: waiting ones (a retry, a closed send window, a
    /// full sender pool) also by the minute they fall due, earliest first; then pending ones in
    /// file order (`RemainingRows.ordered`). A pass over the campaign's unsent rows: for the
    /// progress line's ETA, read seldom.
    func remainingByZone(cid: Int64) throws(JournalError) -> [RemainingRows]
    @discardableResult
    func resendInDoubt(cid: Int64, providerDedupes: Bool, attemptedBefore: Int64?) throws(JournalError) -> Int

    func counts(cid: Int64) throws(JournalError) -> CampaignCounts
    /// Rows, cost and receipts per provider of a campaign with several (a full pass over its
    /// rows: for status and reports, not for a sender's loop).
    func routeTotals(cid: Int64) throws(JournalError) -> [RouteTotals]
    /// Rows, cost and receipts per language of a template with variants (as `routeTotals`);
    /// empty for one without.
    func languageTotals(cid: Int64) throws(JournalError) -> [LanguageTotals]
    /// Rows per identity of the campaign's sender pools, of the rows claimed at least once
    /// (a full pass over its rows, as `routeTotals`).
    func senderTotals(cid: Int64) throws(JournalError) -> [SenderTotals]
    /// When the first final receipt of each of `rows` arrived (its event time), for the rows that
    /// have one: a sender's sample of its providers' delivery speed (`SlowDeliveryRule`).
    func finalReceipts(cid: Int64, rows: [Int]) throws(JournalError) -> [Int: Int64]
    /// Rows moved from one provider to another (failover), by from, to and reason.
    func routeSwitches(cid: Int64) throws(JournalError) -> [RouteSwitchSummary]
    /// Keeps the providers a sender demoted, for every sender of the campaign (`SharedDemotionRule`:
    /// per provider the later end).
    func shareDemotions(cid: Int64, _ demotions: [SharedDemotion]) throws(JournalError)
    /// The campaign's providers some sender demoted, whose cool-down has not ended.
    func sharedDemotions(cid: Int64) throws(JournalError) -> [SharedDemotion]
    func ledger(cid: Int64) throws(JournalError) -> [LedgerEntry]
    /// Spent and reserved in `month` on `channel` by every campaign of `scope`.
    func monthSpend(month: Int, channel: Channel, scope: LedgerScope) throws(JournalError) -> Money
    func rows(cid: Int64, in state: MessageState, limit: Int) throws(JournalError) -> [RowNote]

    /// Refreshes the lease; false when this sender no longer holds it (taken over).
    @discardableResult
    func heartbeat(cid: Int64, owner: LeaseOwner) throws(JournalError) -> Bool
    /// How long after its last heartbeat another sender may take a silent sender's lease
    /// over (its rows go with it): the `LeaseTerm` a sender checks before every request.
    var leaseTimeout: Duration { get }
    func release(cid: Int64, owner: LeaseOwner, state: CampaignState) throws(JournalError)
    func isLeased(_ record: CampaignRecord) throws(JournalError) -> Bool
    func schedule(cid: Int64, at time: Int64) throws(JournalError)
    func setState(cid: Int64, _ state: CampaignState) throws(JournalError)
    func setStop(cid: Int64, kind: StopKind?, description: String?) throws(JournalError)
    func startRun(cid: Int64, mode: RunMode, owner: LeaseOwner) throws(JournalError) -> Int64
    func endRun(rid: Int64, outcome: String, sent: Int) throws(JournalError)
    @discardableResult
    func request(_ control: CampaignControl, campaign id: String, mode: RunMode) throws(JournalError) -> Bool
    func control(cid: Int64) throws(JournalError) -> CampaignControl?
    /// The dashboard's Resume: a paused campaign nobody is sending is handed to `herald
    /// worker` (scheduled now, sender worker), as `herald schedule` would. Returns false
    /// when the campaign is not paused or someone holds it.
    func resumeForWorker(id: String, mode: RunMode) throws(JournalError) -> Bool

    func prepareFrequencyCap(cid: Int64, cap: FrequencyCap) throws(JournalError)
    func setSuppressUndeliverable(cid: Int64, _ on: Bool) throws(JournalError)
}

/// Writes a campaign's rows while it is `importing`; `finish` makes it ready.
public protocol RowImporter: AnyObject {
    var rows: Int { get }
    func add(_ row: ImportedRow) throws(JournalError)
    /// Commits what is left, marks repeated numbers as duplicates and makes the campaign
    /// ready. Returns the number of duplicates.
    @discardableResult
    func finish() throws(JournalError) -> Int
    /// Gives up an unfinished import (the campaign stays `importing`, to be redone).
    func abandon()
}

/// A campaign's rate, paced in the journal when several processes share it: each claim
/// takes send slots from one token bucket, so their combined rate holds.
public struct SharedRate: Sendable, Equatable {
    public var messagesPerSecond: Double
    /// Units that may go at once on top of the rate (as the in-memory bucket's).
    public var burst: Double
    /// SMS counts parts against the rate; other channels count messages.
    public var countsParts: Bool

    public init(messagesPerSecond: Double, burst: Double, countsParts: Bool) {
        self.messagesPerSecond = messagesPerSecond
        self.burst = burst
        self.countsParts = countsParts
    }
}
