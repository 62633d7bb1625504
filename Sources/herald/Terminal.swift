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
            var line = "\(format(progress.done))/\(format(progress.total)) done  \(format(Int(progress.rate))) msg/s"
            if let left = progress.secondsLeft { line += "  ETA \(duration(left))" }
            if progress.phase == .waiting { line += "  (waiting: retries or send windows)" }
            text = line
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
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
