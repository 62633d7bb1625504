/// A problem with a template found while compiling it, before any row is read.
public enum TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformedPlaceholder(column: Int, field: String = "body")
    case unclosedCondition(column: Int, field: String = "body")
    case conditionTooDeep(column: Int, field: String = "body")
    case unknownPlaceholder(String, declared: [String], field: String = "body")
    case invalidDefault(variable: String, reason: String)
    case invalidPattern(variable: String, pattern: String)
    case constraintOnWrongType(variable: String, constraint: String)

    public var description: String {
        switch self {
        case .malformedPlaceholder(let column, let field):
            return "\(field), column \(column): \"<\" does not open a placeholder like <name> or a condition like <name?text>; write \\< for a literal \"<\""
        case .unclosedCondition(let column, let field):
            return "\(field), column \(column): this condition is never closed by \">\"; inside a condition's text write \\> for a literal \">\""
        case .conditionTooDeep(let column, let field):
            return "\(field), column \(column): conditions nest at most \(TemplateBody.maximumNesting) deep"
        case .unknownPlaceholder(let name, let declared, let field):
            let list = declared.isEmpty ? "none" : declared.joined(separator: ", ")
            return "\(field): placeholder <\(name)> is not a declared variable (declared: \(list))"
        case .invalidDefault(let variable, let reason):
            return "variables.\(variable).default: \(reason)"
        case .invalidPattern(let variable, let pattern):
            return "variables.\(variable).pattern: \"\(pattern)\" is not a valid regular expression"
        case .constraintOnWrongType(let variable, let constraint):
            return "variables.\(variable).\(constraint): only string variables take \(constraint)"
        }
    }
}
