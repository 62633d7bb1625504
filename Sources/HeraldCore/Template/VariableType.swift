/// The type of a template variable, as in AWS Notify template variables.
public enum VariableType: String, Sendable, CaseIterable {
    case string
    case integer
    case boolean
}
