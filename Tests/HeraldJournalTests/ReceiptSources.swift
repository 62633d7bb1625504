import HeraldCore

/// The providers' names as receipt sources: this target tests the journal, which takes any
/// (the providers declare their own in HeraldProviders).
extension ReceiptSource {
    static let aws = ReceiptSource("aws")
    static let agile = ReceiptSource("agile")
    static let v5 = ReceiptSource("v5")
    static let simulator = ReceiptSource("simulator")
}
