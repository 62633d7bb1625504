/// Longest SMS bodies a provider accepts (AWS End User Messaging): 1,600 characters,
/// and no more than 10 parts' worth of units: 1,530 GSM-7 septets or 630 UCS-2 code units.
public enum SMSLimits {
    public static let maxCharacters = 1600
    public static let maxGSMSeptets = 1530
    public static let maxUCS2Units = 630

    /// A problem when the body is over a limit, else nil.
    public static func check(_ segments: SMSSegments, characters: Int) -> RowProblem? {
        if characters > maxCharacters {
            return RowProblem(reason: .tooLong, detail: "message is \(characters) characters; SMS allows at most \(maxCharacters)")
        }
        switch segments.encoding {
        case .gsm7 where segments.units > maxGSMSeptets:
            return RowProblem(reason: .tooLong, detail: "message is \(segments.units) GSM-7 septets; at most \(maxGSMSeptets) (10 parts)")
        case .ucs2 where segments.units > maxUCS2Units:
            return RowProblem(reason: .tooLong, detail: "message is \(segments.units) UCS-2 units; at most \(maxUCS2Units)")
        default:
            return nil
        }
    }
}
