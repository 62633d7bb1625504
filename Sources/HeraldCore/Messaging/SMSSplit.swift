/// An SMS text cut where its parts end, for showing them: each part holds as many characters
/// as its encoding allows once the message is in several parts (153 GSM-7 septets, escapes
/// counting two, or 67 UCS-2 units), never cutting an escape, a surrogate pair or (packing by
/// grapheme) a grapheme cluster.
public enum SMSSplit {
    public static func parts(_ text: String, encoding: SMSEncoding, count: Int, packing: SMSPacking) -> [String] {
        guard count > 1 else { return [text] }
        let capacity = encoding == .gsm7 ? 153 : 67
        var parts: [String] = []
        var current = ""
        var used = 0
        func cost(_ piece: String) -> Int {
            if encoding == .gsm7 { return piece.unicodeScalars.reduce(0) { $0 + (max(1, GSMAlphabet.cost(of: $1))) } }
            return piece.utf16.count
        }
        let pieces: [String] = packing == .graphemes ? text.map(String.init) : text.unicodeScalars.map { String($0) }
        for piece in pieces {
            let size = cost(piece)
            if used + size > capacity, !current.isEmpty {
                parts.append(current)
                current = ""
                used = 0
            }
            current += piece
            used += size
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }
}
