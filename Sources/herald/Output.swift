import Foundation
import HeraldCore
import HeraldEngine
import HeraldJournal

/// Short human summaries for stdout.
enum Output {
    static func validationLine(_ report: ValidationReport) -> String {
        var line = "\(report.campaign): \(Terminal.count(report.rows, "row")), \(Terminal.format(report.sendable)) to send"
        if report.filtered > 0 { line += ", \(Terminal.format(report.filtered)) left out by where:" }
        if report.duplicates > 0 { line += ", \(Terminal.count(report.duplicates, "duplicate number")) (sent once)" }
        if report.suppressed > 0 { line += ", \(Terminal.format(report.suppressed)) on the suppression list" }
        if report.frequencyCapped > 0 { line += ", \(Terminal.format(report.frequencyCapped)) at the frequency cap" }
        if report.overMaxPrice > 0 { line += ", \(Terminal.format(report.overMaxPrice)) over max_price" }
        if report.problemCount > 0 {
            let reasons = report.problemsByReason.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue) \(Terminal.format($0.value))" }.joined(separator: ", ")
            line += ", \(Terminal.format(report.problemCount)) with problems (\(reasons))"
        } else {
            line += "; no problems"
        }
        if !report.byProvider.isEmpty {
            line += "\n  by provider: " + report.byProvider.map { "\($0.name) \(Terminal.format($0.rows))" }.joined(separator: ", ")
        }
        return ([line] + ucs2Lines(report.ucs2Characters, recipients: nil)).joined(separator: "\n")
    }

    /// The characters that make rows UCS-2 (SMS at 70 characters a part instead of 160), with
    /// example lines and what smart encoding would send instead.
    static func ucs2Lines(_ culprits: [UCS2Culprits.Culprit], recipients: String?) -> [String] {
        guard !culprits.isEmpty else { return [] }
        var lines = ["  characters that make rows UCS-2 (70 characters a part instead of 160):"]
        for culprit in culprits {
            let shown = culprit.character.unicodeScalars.allSatisfy { $0.properties.isWhitespace } ? culprit.codePoint : culprit.character
            var text = "    \(shown) \(culprit.codePoint) \(culprit.name): \(Terminal.count(culprit.rows, "row")), e.g. line"
                + (culprit.exampleLines.count == 1 ? " " : "s ") + culprit.exampleLines.map(String.init).joined(separator: ", ")
            if let replacement = culprit.smartReplacement {
                text += "; smart_encoding sends " + (replacement.isEmpty ? "nothing" : replacement.trimmingCharacters(in: .whitespaces).isEmpty ? "a space" : "\"\(replacement)\"")
            }
            lines.append(text)
        }
        return lines
    }

    static func summary(_ summary: RunSummary) -> String {
        let counts = summary.counts
        var lines: [String] = []
        if summary.dryRun {
            lines.append("dry run of \(summary.campaign) (nothing delivered; real progress and spend untouched): "
                + "\(Terminal.format(counts[.sent])) would be sent, \(Terminal.format(counts[.failed])) refused by the provider, "
                + "\(Terminal.format(counts[.skipped])) skipped; would-be cost $\(summary.spent)")
            for row in summary.failedRows {
                lines.append("  line \(row.row): \(row.reason?.rawValue ?? "failed"): \((row.detail ?? "").printable)")
            }
            if counts[.failed] > summary.failedRows.count {
                lines.append("  ... and \(Terminal.format(counts[.failed] - summary.failedRows.count)) more: `herald status \(summary.campaign)`")
            }
            return lines.joined(separator: "\n")
        }
        var head = "\(summary.campaign): \(summary.state.rawValue): \(Terminal.format(counts[.sent])) sent, "
            + "\(Terminal.format(counts[.failed])) failed, \(Terminal.format(counts[.skipped])) skipped"
        if !counts.byReason.isEmpty { head += " (\(reasons(counts)))" }
        head += ", \(Terminal.format(counts[.inDoubt])) in doubt, "
            + "\(Terminal.format(counts[.pending] + counts[.retry] + counts[.sending])) remaining"
        lines.append(head)
        if summary.spent > .zero { lines.append("spend so far: $\(summary.spent)") }
        let rate = summary.elapsedSeconds > 0 ? Double(summary.sentThisRun) / summary.elapsedSeconds : 0
        var run = "this run: \(Terminal.format(summary.sentThisRun)) sent in \(String(format: "%.1f", summary.elapsedSeconds)) s"
            + " (\(Terminal.format(Int(rate))) msg/s)"
        if summary.imported > 0 { run += "; imported \(Terminal.count(summary.imported, "row"))" }
        if summary.recoveredInDoubt > 0 {
            run += "; \(Terminal.count(summary.recoveredInDoubt, "row was", "rows were")) in doubt after the last run"
                + (summary.resentInDoubt ? " and were resent (the provider dedupes them)" : "")
        }
        lines.append(run)
        switch summary.stop {
        case .signal:
            lines.append("stopped by signal; `herald resume \(summary.campaign)` continues where it stopped")
        case .limit:
            lines.append("--limit reached; `herald resume \(summary.campaign)` continues")
        case .paused:
            lines.append("paused by `herald pause`; `herald resume \(summary.campaign)` continues")
        case .cancelled:
            lines.append("cancelled by `herald cancel`: rows not sent were skipped (reason cancelled)")
        case .providerRefused(let detail):
            lines.append("the provider refused the campaign (\(detail.printable)); nothing more was sent. Fix it, then "
                + "`herald resume \(summary.campaign)`")
        case .budget(.provider, let detail):
            lines.append("the provider's spend limit is reached (\((detail ?? "no detail").printable)); resume once it is raised")
        case .budget(let kind, _):
            lines.append("budget: the next message would pass \(kind.rawValue); raise it in the campaign file and "
                + "`herald resume \(summary.campaign)`")
        case nil:
            if counts[.inDoubt] > 0 {
                lines.append("rows in doubt may or may not have been delivered: `herald status \(summary.campaign)` lists them; "
                    + "`herald resume \(summary.campaign) --resend-in-doubt` sends them again")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func status(_ status: CampaignStatus) -> String {
        var lines = ["\(status.campaign): \(status.state), \(Terminal.count(status.total, "row")) (\(status.campaignFile))"]
        if let requested = status.requested {
            lines.append("  \(requested) requested: taken when the sender holding the campaign next looks, or by the next open once no live sender holds it")
        }
        let order = ["pending", "sending", "retry", "sent", "failed", "skipped", "in_doubt"]
        lines.append("  " + order.map { "\($0) \(Terminal.format(status.counts[$0] ?? 0))" }.joined(separator: "  "))
        if !status.reasons.isEmpty {
            lines.append("  reasons: " + status.reasons.sorted { $0.key < $1.key }
                .map { "\($0.key) \(Terminal.format($0.value))" }.joined(separator: ", "))
        }
        if !status.waiting.isEmpty {
            lines.append("  waiting: " + status.waiting.sorted { $0.key < $1.key }
                .map { "\($0.key) \(Terminal.format($0.value))" }.joined(separator: ", "))
        }
        if !status.inDoubt.isEmpty {
            lines.append("  in doubt: " + status.inDoubtReasons.sorted { $0.key < $1.key }
                .map { "\($0.key) \(Terminal.format($0.value))" }.joined(separator: ", "))
            for doubt in status.inDoubt.prefix(10) {
                lines.append("    line \(doubt.row): \(doubt.reason)" + (doubt.detail.map { ": \($0.printable)" } ?? ""))
            }
            if status.inDoubt.count > 10 {
                lines.append("    CSV lines: " + status.inDoubtRows.dropFirst(10).map(String.init).joined(separator: ", ")
                    + ((status.counts["in_doubt"] ?? 0) > status.inDoubtRows.count ? ", ..." : ""))
            }
        }
        let spend = status.spend
        // A dry run delivers nothing and spends nothing: its figures are what it would cost.
        var money = status.mode == RunMode.dryRun.rawValue
            ? "  would-be cost (dry run, no money spent): $\(spend.spent) + $\(spend.reserved) in flight"
            : "  spend: $\(spend.spent) spent + $\(spend.reserved) reserved"
        if let limit = spend.campaignLimit { money += "; campaign_limit $\(limit)" }
        if let limit = spend.monthlyLimit {
            money += "; \(BillingMonth.label(spend.month)): $\(spend.monthSpent) of monthly_limit $\(limit)"
        }
        if let maxPrice = spend.maxPrice { money += "; max_price $\(maxPrice)" }
        lines.append(money)
        lines += delivery(status.delivery, sent: status.counts["sent"] ?? 0)
        for line in status.providers ?? [] {
            let f = Terminal.format
            var text = "  provider \(line.name) (\(line.kind)): sent \(f(line.sent)), failed \(f(line.failed)), "
                + "skipped \(f(line.skipped)), in doubt \(f(line.inDoubt)), open \(f(line.open)); cost $\(line.cost)"
            if let earlier = line.fellBackCost { text += " ($\(earlier) of it for RCS that fell back to SMS)" }
            if line.delivered + line.undelivered > 0 {
                text += "; delivered \(f(line.delivered)), undelivered \(f(line.undelivered))"
            }
            lines.append(text)
        }
        for line in status.languages ?? [] {
            let f = Terminal.format
            var text = "  language \(line.language): sent \(f(line.sent)), failed \(f(line.failed)), skipped \(f(line.skipped)), "
                + "in doubt \(f(line.inDoubt)), open \(f(line.open)); cost $\(line.cost)"
            if line.delivered + line.undelivered > 0 {
                text += "; delivered \(f(line.delivered)), undelivered \(f(line.undelivered))"
            }
            lines.append(text)
        }
        for line in status.senders ?? [] {
            let f = Terminal.format
            lines.append("  sender \(line.id) (\(line.provider)): sent \(f(line.sent)), failed \(f(line.failed)), "
                + "in doubt \(f(line.inDoubt)), open \(f(line.open))")
        }
        for move in status.switches ?? [] {
            let when = move.first == move.last ? "at \(move.first)" : "\(move.first) to \(move.last)"
            lines.append("  failover: \(Terminal.format(move.rows)) \(move.rows == 1 ? "row" : "rows") moved from \(move.from) to \(move.to) "
                + "(\(move.reason)), \(when)")
        }
        for demotion in status.demoted ?? [] {
            lines.append("  provider \(demotion.provider) demoted until \(demotion.until): \(demotion.reason.printable)")
        }
        if let reason = status.stopReason { lines.append("  last run stopped: \(reason.printable)") }
        if let next = status.nextSendAt { lines.append("  next send: \(next) (retries, or recipients outside their send window)") }
        if let finish = status.finishesAt { lines.append("  finishes: \(finish) at its rate, inside its send windows") }
        if let lease = status.lease {
            lines.append("  being sent by pid \(lease.pid) on \(lease.host), last heartbeat \(lease.heartbeat)")
        }
        lines.append("  updated \(status.updatedAt)")
        return lines.joined(separator: "\n")
    }

    /// The receipts' part of `status`: nothing until a receipt arrived.
    static func delivery(_ delivery: CampaignStatus.Delivery, sent: Int) -> [String] {
        let f = Terminal.format
        let finals = delivery.delivered + delivery.undelivered + delivery.expired + delivery.fallback + delivery.unknown
        guard finals + delivery.read > 0 || delivery.waitingForReceipt < sent else { return [] }
        var line = "  delivery: delivered \(f(delivery.delivered))"
        if let rate = delivery.deliveryRate { line += String(format: " (%.1f%% of sent)", rate * 100) }
        line += ", undelivered \(f(delivery.undelivered))"
        if !delivery.undeliveredByCode.isEmpty {
            line += " (" + delivery.undeliveredByCode.sorted { $0.key < $1.key }.map { "\($0.key.printable) \(f($0.value))" }
                .joined(separator: ", ") + ")"
        }
        line += ", expired \(f(delivery.expired)), fallback \(f(delivery.fallback)), unknown \(f(delivery.unknown))"
            + ", read \(f(delivery.read)), waiting for receipt \(f(delivery.waitingForReceipt))"
        var lines = [line]
        if let median = delivery.medianMs, let p90 = delivery.p90Ms {
            lines.append("  time to delivery: median \(seconds(median)), p90 \(seconds(p90))")
        }
        if delivery.inDoubtWithinGrace > 0 {
            lines.append("  \(f(delivery.inDoubtWithinGrace)) in-doubt rows are within the receipt grace period "
                + "(--resend-in-doubt leaves them until --receipt-grace has passed)")
        }
        if let cost = delivery.providerReportedCost { lines.append("  provider-reported cost: $\(cost)") }
        return lines
    }

    private static func seconds(_ milliseconds: Int64) -> String {
        milliseconds < 1000 ? "\(milliseconds) ms" : String(format: "%.1f s", Double(milliseconds) / 1000)
    }

    /// `rows 8: 6 to send, 2 left out by where:, ...`: what will be sent and what will not, and why.
    static func rowsLine(_ estimate: Estimate) -> String {
        let f = Terminal.format
        var rows = "rows \(f(estimate.rows)): \(f(estimate.messages)) to send"
        if estimate.duplicates > 0 { rows += ", \(Terminal.count(estimate.duplicates, "duplicate"))" }
        if estimate.alreadyHandled > 0 {
            let other = estimate.alreadyHandled - estimate.alreadySent
            rows += ", \(f(estimate.alreadySent)) already sent or in doubt"
                + (other > 0 ? ", \(f(other)) already failed or skipped by the journal" : "")
        }
        if estimate.filtered > 0 { rows += ", \(f(estimate.filtered)) left out by where:" }
        if estimate.overMaxPrice > 0 { rows += ", \(f(estimate.overMaxPrice)) over max_price" }
        if estimate.suppressed > 0 { rows += ", \(f(estimate.suppressed)) on the suppression list" }
        if estimate.frequencyCapped > 0 { rows += ", \(f(estimate.frequencyCapped)) over the frequency cap" }
        let invalid = estimate.invalid.values.reduce(0, +)
        if invalid > 0 {
            rows += ", \(f(invalid)) invalid (" + estimate.invalid.sorted { $0.key < $1.key }
                .map { "\($0.key) \(f($0.value))" }.joined(separator: ", ") + ")"
        }
        return rows
    }

    /// Where each budget limit stops the campaign, one line each.
    /// `sms_fallback:` entries: the most their SMS could add.
    static func fallbackLines(_ estimate: Estimate) -> [String] {
        let f = Terminal.format
        return estimate.smsFallback.map { line in
            // The most it could add: only rows whose RCS receipts prove a failure go, within the limits.
            var text = "  sms_fallback \(line.from) -> \(line.to): if every RCS message failed, up to \(f(line.messages)) SMS "
                + "(\(f(line.parts)) parts) $\(line.cost) more"
            if line.unpriced > 0 { text += "; \(f(line.unpriced)) rows with no SMS price in \(line.to)'s book would stay undelivered" }
            return text
        }
    }

    static func limitLines(_ estimate: Estimate, recipients: String) -> [String] {
        estimate.limits.map { stop in
            var text = "  \(stop.limit) $\(stop.amount)"
            if stop.alreadySpent > .zero { text += " ($\(stop.alreadySpent) already spent)" }
            if let line = stop.stopsAtLine {
                text += ": stops after \(Terminal.count(stop.messagesBeforeStop, "message")) ($\(stop.costBeforeStop)), before \(recipients):\(line)"
            } else {
                text += ": not reached (this campaign adds $\(stop.costBeforeStop))"
            }
            return text
        }
    }

    /// `send windows: 4,000 rows now; 15,100 at 2026-12-08T08:00:00Z (in 4:46:00)`; nil without a window.
    static func windowsLine(_ estimate: Estimate, now: Date = Date()) -> String? {
        guard !estimate.windows.isEmpty else { return nil }
        let formatter = ISO8601DateFormatter()
        return "  send windows: " + estimate.windows.map { line in
            guard let opens = line.opensAt else { return "\(Terminal.count(line.rows, "row")) open now" }
            let wait = formatter.date(from: opens).map { " (in \(Terminal.duration(max(0, $0.timeIntervalSince(now)))))" } ?? ""
            return "\(Terminal.count(line.rows, "row")) wait for \(opens)\(wait)"
        }.joined(separator: "; ")
    }

    static func estimate(_ estimate: Estimate, recipients: String) -> String {
        let f = Terminal.format
        var lines = ["\(estimate.campaign): estimate (offline: nothing sent, nothing written)"]
        lines.append("  " + rowsLine(estimate))
        if !estimate.byClause.isEmpty {
            lines.append("  where: each clause leaves out (a row may fail several):")
            for clause in estimate.byClause { lines.append("    \(f(clause.removes).leftPadded(9))  \(clause.clause)") }
        }
        if estimate.channel == "sms" {
            lines.append("  parts: \(f(estimate.parts))" + estimate.byEncoding.sorted { $0.key < $1.key }
                .map { " | \($0.key) \(Terminal.count($0.value.messages, "message")), \(Terminal.count($0.value.parts, "part"))" }.joined())
        } else if estimate.byEncoding.isEmpty {
            lines.append("  messages: \(f(estimate.messages)) (\(estimate.channel): one unit each, no SMS parts)")
        } else {
            lines.append("  parts: \(f(estimate.parts))" + estimate.byEncoding.sorted { $0.key < $1.key }
                .map { " | \($0.key) \(Terminal.count($0.value.messages, "message")), \(Terminal.count($0.value.parts, "part"))" }.joined())
        }
        if !estimate.byCountry.isEmpty {
            lines.append("  cost by country and channel:")
            for line in estimate.byCountry {
                let country = line.country.padding(toLength: 3, withPad: " ", startingAt: 0)
                let channel = line.channel.padding(toLength: 12, withPad: " ", startingAt: 0)
                lines.append("    \(country) \(channel) \(f(line.messages).leftPadded(11)) msgs \(f(line.parts).leftPadded(11)) parts  $\(line.cost)")
            }
        }
        if let routing = estimate.routing {
            lines.append("  cost by provider (routing: \(routing)):")
            let width = max(8, estimate.byProvider.map(\.name.count).max() ?? 0)
            for line in estimate.byProvider {
                let name = "\(line.name) (\(line.kind))".padding(toLength: width + 10, withPad: " ", startingAt: 0)
                lines.append("    \(name) \(f(line.messages).leftPadded(11)) msgs \(f(line.parts).leftPadded(11)) parts  $\(line.cost)")
            }
        }
        lines += fallbackLines(estimate)
        if !estimate.byLanguage.isEmpty {
            lines.append("  by language:")
            for line in estimate.byLanguage {
                lines.append("    \(line.language.padding(toLength: 8, withPad: " ", startingAt: 0)) \(f(line.messages).leftPadded(11)) msgs "
                    + "\(f(line.parts).leftPadded(11)) parts  $\(line.cost)")
            }
        }
        if !estimate.bySender.isEmpty {
            lines.append("  by sender (sticky: each recipient's own; rates and daily caps as listed):")
            let width = estimate.bySender.map { $0.id.count + $0.provider.count + 3 }.max() ?? 0
            for line in estimate.bySender {
                let name = "\(line.id) (\(line.provider))".padding(toLength: width, withPad: " ", startingAt: 0)
                var text = "    \(name) \(f(line.messages).leftPadded(9)) msgs \(f(line.units).leftPadded(9)) units"
                if let rate = line.messagesPerSecond, let seconds = line.seconds {
                    text += " at \(String(format: "%g", rate))/s: \(Terminal.duration(seconds))"
                }
                if let cap = line.dailyCap { text += "; daily_cap \(f(cap))" }
                lines.append(text)
            }
            if estimate.beyondDailyCaps > 0 {
                lines.append("    \(Terminal.count(estimate.beyondDailyCaps, "row")) beyond today's daily caps: they wait for the next UTC day")
            }
        }
        if let smart = estimate.smartEncoding {
            lines.append("  smart_encoding: \(Terminal.count(smart.rowsChanged, "row")) changed, \(Terminal.count(smart.partsSaved, "part")) "
                + "and $\(smart.costSaved) saved against the text as written")
        }
        lines += ucs2Lines(estimate.ucs2Characters, recipients: recipients)
        lines.append("  total: $\(estimate.total)")
        lines += limitLines(estimate, recipients: recipients)
        if let windows = windowsLine(estimate) { lines.append(windows) }
        if let seconds = estimate.durationSeconds, let finish = estimate.finishesAt {
            lines.append("  duration: \(Terminal.duration(seconds)), finishing about \(finish) if started now (\(estimate.durationNote))")
        } else {
            lines.append("  duration: \(estimate.durationNote)")
        }
        return lines.joined(separator: "\n")
    }

    private static func reasons(_ counts: CampaignCounts) -> String {
        counts.byReason.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.key.rawValue) \(Terminal.format($0.value))" }.joined(separator: ", ")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
