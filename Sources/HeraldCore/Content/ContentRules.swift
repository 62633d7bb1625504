import Foundation

/// Checks content against what one provider accepts, with the limits of its
/// documentation (the AWS service model for `aws`). Before any row is read the
/// template's own texts are checked (`rendered: false`: a text holding
/// placeholders is checked once rendered); each row is checked after rendering.
public struct ContentRules {
    public let target: ContentTarget
    public let rendered: Bool
    private(set) var issues: [ContentIssue] = []

    public init(target: ContentTarget, rendered: Bool) {
        self.target = target
        self.rendered = rendered
    }

    /// Every issue with `layout` for the target.
    public static func check(_ layout: ContentLayout, channel: Channel, target: ContentTarget,
                             rendered: Bool) -> [ContentIssue] {
        var rules = ContentRules(target: target, rendered: rendered)
        guard target.channels.contains(channel) else {
            rules.issue("channel", "provider \(target.name) cannot send \(channel.rawValue) "
                        + "(it sends: \(target.channels.map(\.rawValue).joined(separator: ", ")))")
            return rules.issues
        }
        switch layout {
        case .text: break
        case .mms(let content): rules.check(mms: content)
        case .voice(let content): rules.check(voice: content)
        case .rcs(let content): rules.check(rcs: content)
        case .notify(let content): rules.check(notify: content)
        }
        return rules.issues
    }

    /// The first issue with one rendered message (the journal's JSON body).
    public static func firstIssue(rendered body: UnsafeBufferPointer<UInt8>, channel: Channel,
                                  target: ContentTarget) -> ContentIssue? {
        guard channel != .sms else { return nil }
        guard let layout = ContentLayout(channel: channel, json: body) else { return ContentIssue(channel.rawValue, "rendered content is not readable") }
        return check(layout, channel: channel, target: target, rendered: true).first
    }

    mutating func issue(_ path: String, _ message: String) {
        issues.append(ContentIssue(path, message))
    }

    /// Whether a text's value is known now: rendered, or without placeholders.
    func known(_ value: String) -> Bool {
        rendered || ContentTemplate.placeholders(in: value) == nil
    }

    /// Length in characters within `range`, and not only spaces when required.
    mutating func text(_ path: @autoclosure () -> String, _ value: String?, _ range: ClosedRange<Int>, required: Bool = false) {
        guard let value else {
            if required { issue(path(), "required") }
            return
        }
        guard known(value) else { return }
        if value.isBlank {
            if range.lowerBound > 0 || required { issue(path(), "is empty") }
            return
        }
        // A character takes at least one UTF-8 byte: count characters only when it may matter.
        if value.utf8.count > range.upperBound, value.count > range.upperBound {
            issue(path(), "\(value.count) characters; \(target.name) allows at most \(range.upperBound)")
        }
    }

    mutating func url(_ path: @autoclosure () -> String, _ value: String?, schemes: [String], max: Int, required: Bool = false) {
        text(path(), value, 1...max, required: required)
        guard let value, known(value), !value.isEmpty else { return }
        let bytes = value.utf8
        // Lower-case schemes, as AWS's patterns (`(https://|s3://).+`) require.
        guard schemes.contains(where: { bytes.count > $0.utf8.count && bytes.starts(with: $0.utf8) }),
            !value.utf8.contains(where: { $0 <= 0x20 })
        else {
            issue(path(), "\"\(value.clippedForIssue)\" is not a URL starting with \(schemes.joined(separator: " or "))")
            return
        }
    }

    mutating func oneOf(_ path: @autoclosure () -> String, _ value: String?, _ allowed: [String]) {
        guard let value, known(value) else { return }
        if !allowed.contains(value) { issue(path(), "\"\(value.clippedForIssue)\" is not one of \(allowed.joined(separator: ", "))") }
    }

    mutating func number(_ path: @autoclosure () -> String, _ value: String?, _ range: ClosedRange<Double>) {
        guard let value, known(value) else { return }
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            issue(path(), "\"\(value.clippedForIssue)\" is not a number from \(Int(range.lowerBound)) to \(Int(range.upperBound))")
            return
        }
    }

    /// The date-time in seconds since 1970 when it is one (nil, with an issue, when it is not).
    @discardableResult
    mutating func date(_ path: @autoclosure () -> String, _ value: String?) -> Double? {
        guard let value, known(value) else { return nil }
        guard let seconds = ISO8601.parse(value) else {
            issue(path(), "\"\(value.clippedForIssue)\" is not an ISO 8601 date-time such as 2030-03-03T15:00:00Z")
            return nil
        }
        return seconds
    }

    mutating func phone(_ path: @autoclosure () -> String, _ value: String?, max: Int) {
        text(path(), value, 1...max)
        guard let value, known(value) else { return }
        let digits = value.hasPrefix("+") ? value.dropFirst() : Substring(value)
        if digits.isEmpty || !digits.allSatisfy(\.isASCIIDigit) || digits.first == "0" {
            issue(path(), "\"\(value.clippedForIssue)\" is not a phone number in international format (+15550100)")
        }
    }

    mutating func count<T>(_ path: @autoclosure () -> String, _ list: [T]?, max: Int, what: String) {
        guard let list, list.count > max else { return }
        issue(path(), "\(list.count) \(what); \(target.name) allows at most \(max)")
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    /// Empty or only white space; ASCII text is checked byte by byte.
    var isBlank: Bool {
        for byte in utf8 {
            if byte >= 0x80 { return allSatisfy(\.isWhitespace) }
            if byte != 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D, byte != 0x0B, byte != 0x0C { return false }
        }
        return true
    }

    /// Short enough to quote in an error.
    var clippedForIssue: String { count > 40 ? String(prefix(37)) + "..." : self }
}
