import Foundation

/// One declared template variable: its type and the constraints every value must meet.
public struct VariableSpec: Sendable {
    public var name: String
    public var type: VariableType
    public var required: Bool
    /// Used when the CSV has no such column or the cell is empty.
    public var defaultValue: String?
    /// Maximum length in Unicode scalars (string variables only).
    public var maxLength: Int?
    /// A regular expression the whole value must match (string variables only).
    public var pattern: String?

    public init(
        name: String, type: VariableType, required: Bool = false, defaultValue: String? = nil,
        maxLength: Int? = nil, pattern: String? = nil
    ) {
        self.name = name
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.maxLength = maxLength
        self.pattern = pattern
    }
}
