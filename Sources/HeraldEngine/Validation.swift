import Foundation
import HeraldJournal
import HeraldSQLite
import HeraldCore
import HeraldSettings

/// What `herald validate` found: every row checked, problems listed up to a cap.
public struct ValidationReport: Sendable {
    public struct Problem: Sendable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let problem: RowProblem
        public var description: String { "\(file):\(line): \(problem)" }
    }

    public let campaign: String
    public var rows = 0
    /// Valid rows whose number appears in an earlier valid row: sent once.
    public var duplicates = 0
    /// Valid rows whose number is on the journal's suppression list: not sent.
    public var suppressed = 0
    /// Valid rows whose recipient already reached the campaign's frequency cap (with a journal).
    public var frequencyCapped = 0
    /// Valid rows that cost more than `max_price`: skipped, as `estimate` and the run skip them.
    public var overMaxPrice = 0
    /// Rows `where:` leaves out: counted, never a problem.
    public var filtered = 0
    /// The characters that make rows UCS-2, with example lines.
    public var ucs2Characters: [UCS2Culprits.Culprit] = []
    public var problemCount = 0
    public var problemsByReason: [Reason: Int] = [:]
    /// The first `listLimit` problems, in file order.
    public var problems: [Problem] = []
    public let listLimit: Int
    /// With several providers: valid rows (duplicates and suppressed ones included) by the
    /// provider each takes, in the file's order of providers.
    public var byProvider: [(name: String, rows: Int)] = []

    /// Rows that would be sent.
    public var sendable: Int { rows - filtered - problemCount - duplicates - suppressed - frequencyCapped - overMaxPrice }
    public var isClean: Bool { problemCount == 0 }
}

/// Why a valid row would not be sent, decided offline in the order the claim decides: a repeat
/// of an earlier row's number, a suppressed number, a recipient at the frequency cap, a price
/// over `max_price`. Shared by `validate` and `preview`, so both say the same.
struct OfflineRowCheck {
    private var seen = DestinationSet()
    let suppressed: ((UInt64, Int) -> Bool)?
    let capped: ((UInt64) -> Bool)?
    let maxPrice: BudgetLimits

    init(_ plan: CampaignPlan, journalPath: String?) throws {
        suppressed = try plan.suppressionChecker(journalPath: journalPath)
        capped = try plan.frequencyChecker(journalPath: journalPath)
        maxPrice = BudgetLimits(maxPrice: plan.spec.budget.maxPrice)
    }

    mutating func skipReason(phone: PhoneNumber?, route: Int, cost: Money) -> Reason? {
        if let phone, !seen.insert(phone.digits) { return .duplicate }
        if let phone, suppressed?(phone.digits, route) == true { return .suppressed }
        if let phone, capped?(phone.digits) == true { return .frequencyCap }
        if maxPrice.decide(cost: cost, campaignSpent: .zero, monthSpent: .zero) == .overMaxPrice { return .maxPrice }
        return nil
    }
}

extension CampaignPlan {
    /// Checks every recipient row against the template. The journal, when given and
    /// present, is only read: for its suppression list.
    public func validate(listLimit: Int = 50, journalPath: String? = nil) throws -> ValidationReport {
        var report = ValidationReport(campaign: spec.id, listLimit: listLimit)
        var check = try OfflineRowCheck(self, journalPath: journalPath)
        let scanner = try RecipientScanner(plan: self)
        let file = spec.recipientsPath
        if spec.isRouted { report.byProvider = spec.routes.map { ($0.name, 0) } }
        try scanner.scan { row in
            report.rows += 1
            if row.problem?.reason == .filtered {
                report.filtered += 1
                return
            }
            if let problem = row.problem {
                report.problemCount += 1
                report.problemsByReason[problem.reason, default: 0] += 1
                if report.problems.count < listLimit {
                    report.problems.append(.init(file: file, line: row.line, problem: problem))
                }
                return
            }
            if !report.byProvider.isEmpty { report.byProvider[row.route].rows += 1 }
            switch check.skipReason(phone: row.phone, route: row.route, cost: row.cost) {
            case .duplicate: report.duplicates += 1
            case .suppressed: report.suppressed += 1
            case .frequencyCap: report.frequencyCapped += 1
            case .maxPrice: report.overMaxPrice += 1
            default: break
            }
        }
        if report.rows == 0 {
            throw InputError(file: file, "no recipient rows after the header")
        }
        try scanner.checkEveryRouteFits()
        report.ucs2Characters = scanner.culprits.top()
        return report
    }
}

extension CampaignPlan {
    /// The journal's suppression list for this campaign's sender, read-only; nil when
    /// there is no journal or nothing is listed.
    func suppressionChecker(journalPath: String?) throws -> ((UInt64, Int) -> Bool)? {
        guard let journalPath else { return nil }
        return try suppressionChecker(try JournalOpener.planning(journalPath))
    }

    /// Whether a number is suppressed for the row's route (its provider's sender, or every sender).
    func suppressionChecker(_ journal: (any PlanningJournal)?) throws -> ((UInt64, Int) -> Bool)? {
        guard let journal else { return nil }
        let scopes = spec.senders
        var checkers: [String: (UInt64) -> Bool] = [:]
        for sender in scopes.distinct {
            guard let checker = try Self.checker(journal, scope: sender) else { return nil }  // nothing listed
            checkers[sender] = checker
        }
        let found = checkers
        return { number, route in scopes.scopes(route: route).contains { found[$0]?(number) ?? false } }
    }

    private static func checker(_ journal: any PlanningJournal, scope: String) throws -> ((UInt64) -> Bool)? {
        do {
            return try journal.suppressionChecker(scope: scope)
        } catch where error.isOlderSchema {
            return nil  // a v3 journal has no suppression list
        }
    }
}

extension CampaignPlan {
    /// Who already reached the campaign's frequency cap, read-only; nil without a cap or journal.
    func frequencyChecker(journalPath: String?) throws -> ((UInt64) -> Bool)? {
        guard let cap = spec.frequencyCap, let journalPath, JournalOpener.exists(journalPath) else { return nil }
        do {
            return try JournalOpener.planning(journalPath)?
                .frequencyChecker(campaign: spec.id, scope: RunOptions().ledgerScope(for: spec), cap: cap)
        } catch where error.isOlderSchema {
            return nil
        }
    }
}

/// `--strict` found problems: nothing was written.
public struct ValidationFailed: Error, Sendable {
    public let report: ValidationReport
}
