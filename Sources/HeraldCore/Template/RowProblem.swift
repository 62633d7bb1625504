/// One problem with one recipient row. `detail` never holds a phone number.
public struct RowProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: Reason
    public var column: String?
    public var detail: String

    public init(reason: Reason, column: String? = nil, detail: String) {
        self.reason = reason
        self.column = column
        self.detail = detail
    }

    public var description: String {
        if let column { return "column \"\(column)\": \(detail)" }
        return detail
    }
}
