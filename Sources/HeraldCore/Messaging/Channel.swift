/// The kind of message a template produces. Each maps onto one provider operation.
public enum Channel: String, Sendable, CaseIterable, Codable {
    case sms
    case mms
    case voice
    case rcs
    case notifyText = "notify-text"
    case notifyVoice = "notify-voice"
}
