import Foundation

/// A receipt callback URL for one message.
public enum CallbackURL {
    /// `base` with the campaign and row in its query (`herald_campaign`, `herald_row`), so that
    /// a receipt for a row whose send answer was lost (no message id stored) still finds its row.
    public static func naming(_ base: String, _ message: OutboundMessage) -> String {
        var components = URLComponents(string: base)
        var query = components?.queryItems ?? []
        query += [URLQueryItem(name: "herald_campaign", value: message.campaign), URLQueryItem(name: "herald_row", value: String(message.row))]
        components?.queryItems = query
        return components?.string ?? base
    }
}
