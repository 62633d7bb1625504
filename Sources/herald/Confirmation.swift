import Foundation
import HeraldCore
import HeraldEngine
import HeraldProviders

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The check before sending: on a terminal, `herald run` shows what the estimate knows and a
/// few rendered messages, then asks. Only when real messages would go out: a dry run, a
/// simulation and a campaign on the simulator send nothing a person receives.
enum Confirmation {
    static func needed(_ plan: CampaignPlan, _ options: RunOptions, yes: Bool) -> Bool {
        !yes && isatty(0) == 1 && isatty(2) == 1 && !options.dryRun && !options.simulate
            && plan.spec.routes.contains { $0.provider.kind.name != ProviderKind.simulator.name }
    }

    /// Shows the check on stderr and reads the answer from stdin: true to send.
    static func ask(_ plan: CampaignPlan, journalPath: String) throws -> Bool {
        let estimate = try plan.estimate(journalPath: journalPath, perRecipient: nil)
        let recipients = plan.spec.recipientsPath
        let providers = plan.spec.isRouted
            ? plan.spec.routes.map(\.name).joined(separator: ", ") + " (\(plan.spec.routing.rawValue))"
            : plan.spec.provider.kind.name
        var lines = ["\(estimate.campaign): \(Output.rowsLine(estimate))",
                     "  through \(providers): $\(estimate.total)" + (estimate.channel == "sms" ? " for \(Terminal.count(estimate.parts, "part"))" : "")]
        lines += Output.limitLines(estimate, recipients: recipients)
        lines += Output.fallbackLines(estimate)
        if let windows = Output.windowsLine(estimate) { lines.append(windows) }
        if let seconds = estimate.durationSeconds { lines.append("  duration: about \(Terminal.duration(seconds))") }
        let sample = try plan.preview(lines: nil, sample: 3, journalPath: journalPath).rows.filter { $0.status == "send" }
        for row in sample {
            let text = (row.body ?? "").replacingOccurrences(of: "\n", with: " ")
            let shown = text.count > 160 ? String(text.prefix(157)) + "..." : text
            var about = [row.language, row.parts.map { Terminal.count($0, "part") }, row.cost.map { "$\($0)" }].compactMap { $0 }
            if about.isEmpty { about = [row.channel] }
            lines.append("  line \(row.line) \(row.phone ?? ""): \(shown.printable) (\(about.joined(separator: ", ")))")
        }
        let question = estimate.messages == 0
            ? "Nothing to send; run anyway (receipts, retries)? [y/N] "
            : "Send \(Terminal.count(estimate.messages, "message")) for about $\(estimate.total)? [y/N] "
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n" + question).utf8))
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return answer == "y" || answer == "yes"
    }
}
