import HeraldCore

/// The receipt routes a receiver serves, `POST /receipts/ROUTE/TOKEN`: one name per kind of
/// callback, known in one place, with what the metrics may say of its event types.
public enum ReceiptRoute: String, CaseIterable, Sendable {
    case agile
    case v5
    /// AWS events through an SNS HTTPS subscription.
    case sns

    /// An event type as a metric label: one this route's parser knows, else `other`, so a
    /// sender of made-up types cannot grow `/metrics` without bound.
    public func metricLabel(_ type: String) -> String {
        switch self {
        case .agile: AgileReceipts.metricLabel(type)
        case .v5: V5Receipts.metricLabel(type)
        case .sns: AWSEventRecords.metricLabel(type)
        }
    }
}
