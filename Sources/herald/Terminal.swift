import Foundation
import HeraldCore
import HeraldEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing to the terminal: errors and the progress line go to stderr.
enum Terminal {
    static let stderrIsTTY = isatty(2) == 1

    static func error(_ message: String) {
        clearProgress()
        FileHandle.standardError.write(Data("herald: error: \(message.printableLines)\n".utf8))
    }

    static func note(_ message: String) {
        clearProgress()
        FileHandle.standardError.write(Data("herald: \(message.printableLines)\n".utf8))
    }

    /// Rewrites the progress line in place; only when stderr is a terminal.
    static func progress(_ progress: RunProgress) {
        guard stderrIsTTY else { return }
        let text: String
        switch progress.phase {
        case .importing:
            text = "importing: \(count(progress.done, "row"))"
        case .waiting where progress.total == 0:
            text = "starting in \(duration(progress.secondsLeft ?? 0)) (schedule.start_at); Ctrl-C to stop"
        case .sending, .waiting:
            text = sendingLine(progress, now: Date())
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    /// `4,825/19,925 done · 31 msg/s · $13.20 of $50.00 · 15,100 waiting for 08:00 local (in 4:46:00) · ETA 18:02Z`
    static func sendingLine(_ progress: RunProgress, now: Date) -> String {
        var parts = ["\(format(progress.done))/\(format(progress.total)) done"]
        if progress.phase == .sending { parts.append("\(format(Int(progress.rate.isFinite ? min(progress.rate, 1e9) : 0))) msg/s") }
        if let spent = progress.spent {
            let money = progress.dryRun ? "would cost $\(spent)" : "$\(spent)"
            parts.append(money + (progress.limit.map { " of $\($0)" } ?? ""))
        }
        if progress.waitingForWindow > 0 {
            var waiting = "\(format(progress.waitingForWindow)) waiting for " + (progress.windowStart.map { "\($0) local" } ?? "their send window")
            if let opens = progress.windowOpens { waiting += " (in \(duration(max(0, opens.timeIntervalSince(now)))))" }
            parts.append(waiting)
        } else if progress.phase == .waiting {
            parts.append("waiting for retries")
        }
        if let finish = progress.finishesAt {
            // The time alone on the same UTC day; with its date otherwise (09:13Z must not read as this morning).
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC") ?? utc.timeZone
            let format = utc.isDate(finish, inSameDayAs: now) ? "HH:mm'Z'" : "yyyy-MM-dd HH:mm'Z'"
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = format
            parts.append("ETA \(formatter.string(from: finish))")
        } else if let left = progress.secondsLeft {
            parts.append("ETA \(duration(left))")
        }
        return parts.joined(separator: " · ")
    }

    static func clearProgress() {
        if stderrIsTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// `1 row`, `2 rows`, `1,204 rows`: a count and its noun, singular for exactly one.
    static func count(_ number: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(format(number)) \(number == 1 ? singular : plural ?? singular + "s")"
    }

    static func format(_ number: Int) -> String {
        let digits = String(number)
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}
