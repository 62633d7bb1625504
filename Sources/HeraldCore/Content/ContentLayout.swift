/// What a template's content looks like, with its template texts unrendered.
/// Every channel but SMS renders to the JSON form of one of these.
public enum ContentLayout: Sendable, Equatable {
    case text
    case mms(MMSContent)
    case voice(VoiceContent)
    case rcs(RCSContent)
    case notify(NotifyContent)

    /// The JSON document template of structured content (nil for SMS text).
    public func compile(declared: [String]) throws(TemplateError) -> TemplateBody? {
        switch self {
        case .text: return nil
        case .mms(let content): return try ContentTemplate.compile(content, root: "mms", declared: declared)
        case .voice(let content): return try ContentTemplate.compile(content, root: "voice", declared: declared)
        case .rcs(let content): return try ContentTemplate.compile(content, root: "rcs", declared: declared)
        case .notify(let content): return try ContentTemplate.compile(content, root: "notify", declared: declared)
        }
    }

    /// Rendered content of `channel` read back from its JSON; nil when it is not such content.
    public init?(channel: Channel, json: UnsafeBufferPointer<UInt8>) {
        guard channel != .sms, let tree = JSONTree.parse(json) else { return nil }
        switch channel {
        case .sms: return nil
        case .mms: guard let content = MMSContent(tree: tree) else { return nil }; self = .mms(content)
        case .voice: guard let content = VoiceContent(tree: tree) else { return nil }; self = .voice(content)
        case .rcs: guard let content = RCSContent(tree: tree) else { return nil }; self = .rcs(content)
        case .notifyText, .notifyVoice: guard let content = NotifyContent(tree: tree) else { return nil }; self = .notify(content)
        }
    }
}
