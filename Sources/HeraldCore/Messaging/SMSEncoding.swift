/// How an SMS body travels: GSM 03.38 7-bit when every character is in the GSM
/// alphabet (basic table or extension table), otherwise UCS-2.
public enum SMSEncoding: String, Sendable, Codable {
    case gsm7 = "GSM-7"
    case ucs2 = "UCS-2"
}
