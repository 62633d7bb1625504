import HeraldCore

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
    public var problemCount = 0
    public var problemsByReason: [Reason: Int] = [:]
    /// The first `listLimit` problems, in file order.
    public var problems: [Problem] = []
    public let listLimit: Int

    /// Rows that would be sent.
    public var sendable: Int { rows - problemCount - duplicates }
    public var isClean: Bool { problemCount == 0 }
}

extension CampaignPlan {
    /// Checks every recipient row against the template without touching the journal.
    public func validate(listLimit: Int = 50) throws -> ValidationReport {
        var report = ValidationReport(campaign: spec.id, listLimit: listLimit)
        var seen = DestinationSet()
        let scanner = try RecipientScanner(plan: self)
        let file = spec.recipientsPath
        try scanner.scan { row in
            report.rows += 1
            if let problem = row.problem {
                report.problemCount += 1
                report.problemsByReason[problem.reason, default: 0] += 1
                if report.problems.count < listLimit {
                    report.problems.append(.init(file: file, line: row.line, problem: problem))
                }
            } else if let phone = row.phone, !seen.insert(phone.digits) {
                report.duplicates += 1
            }
        }
        if report.rows == 0 {
            throw InputError(file: file, "no recipient rows after the header")
        }
        return report
    }
}

/// `--strict` found problems: nothing was written.
public struct ValidationFailed: Error, Sendable {
    public let report: ValidationReport
}
