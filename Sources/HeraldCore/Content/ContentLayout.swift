/// What a template's content looks like, with its template texts unrendered.
/// Every channel but SMS renders to the JSON form of one of these.
public enum ContentLayout: Sendable, Equatable {
    case text
    case mms(MMSContent)
    case voice(VoiceContent)
    case rcs(RCSContent)
    case notify(NotifyContent)
}
