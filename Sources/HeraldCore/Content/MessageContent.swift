/// A message's content, decoded once from what the journal stores (the SMS text, or
/// the rendered JSON of the other channels) and handed to the provider as a value.
public enum MessageContent: Sendable, Equatable {
    case text(String)
    case mms(MMSContent)
    case voice(VoiceContent)
    case rcs(RCSContent)
    case notify(NotifyContent)

    /// The content of a stored body for `channel`; nil when the JSON cannot be read.
    public init?(stored body: String, channel: Channel) {
        switch channel {
        case .sms: self = .text(body)
        case .mms: guard let content = ContentJSON.decode(MMSContent.self, from: body.utf8) else { return nil }
            self = .mms(content)
        case .voice: guard let content = ContentJSON.decode(VoiceContent.self, from: body.utf8) else { return nil }
            self = .voice(content)
        case .rcs: guard let content = ContentJSON.decode(RCSContent.self, from: body.utf8) else { return nil }
            self = .rcs(content)
        case .notifyText, .notifyVoice:
            guard let content = ContentJSON.decode(NotifyContent.self, from: body.utf8) else { return nil }
            self = .notify(content)
        }
    }
}
