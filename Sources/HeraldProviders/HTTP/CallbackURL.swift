import Foundation

/// A receipt callback URL for one message.
public enum CallbackURL {
    /// `base` with the campaign and row in its query (`herald_campaign`, `herald_row`), so that
    /// a receipt for a row whose send answer was lost (no message id stored) still finds its row.
    public static func naming(_ base: String, _ message: OutboundMessage) -> String {
        // Campaign ids are letters, digits, dots, dashes and underscores (and `@` before a
        // mode): nothing to escape, so no URL parser is needed on the send path.
        let plain = message.campaign.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "@")
        }
        if plain, !base.contains("#") {
            return base + (base.contains("?") ? "&" : "?") + "herald_campaign=\(message.campaign)&herald_row=\(message.row)"
        }
        var components = URLComponents(string: base)
        var query = components?.queryItems ?? []
        query += [URLQueryItem(name: "herald_campaign", value: message.campaign), URLQueryItem(name: "herald_row", value: String(message.row))]
        components?.queryItems = query
        return components?.string ?? base
    }
}
