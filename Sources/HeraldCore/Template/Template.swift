import Foundation

/// A compiled message template: channel, typed variables and a body whose
/// placeholders are all declared variables.
public struct Template: Sendable {
    /// One text of the template: its content in one language.
    public struct Variant: Sendable {
        /// The SMS text, or for other channels a JSON document (see `layout`).
        public let body: TemplateBody
        /// The content's structure with template texts, for checks before any row is read.
        public let layout: ContentLayout

        public init(body: TemplateBody, layout: ContentLayout = .text) {
            self.body = body
            self.layout = layout
        }
    }

    public let id: String
    public let channel: Channel
    public let variables: [VariableSpec]
    /// One variant, or one per language (in `languages.codes` order).
    public let variants: [Variant]
    public let languages: TemplateLanguages?
    let patterns: [String: AnchoredPattern]

    /// The default variant's body and layout.
    public var body: TemplateBody { variants[languages?.defaultIndex ?? 0].body }
    public var layout: ContentLayout { variants[languages?.defaultIndex ?? 0].layout }

    public init(id: String, channel: Channel, variables: [VariableSpec], body: TemplateBody,
                layout: ContentLayout = .text) throws(TemplateError) {
        try self.init(id: id, channel: channel, variables: variables, variants: [Variant(body: body, layout: layout)], languages: nil)
    }

    /// A template with a variant per language of `languages` (each checked as a template is).
    public init(id: String, channel: Channel, variables: [VariableSpec], variants: [Variant],
                languages: TemplateLanguages?) throws(TemplateError) {
        precondition(!variants.isEmpty && variants.count == (languages?.codes.count ?? 1), "one variant per language")
        let declared = variables.map(\.name)
        for (index, variant) in variants.enumerated() {
            for name in variant.body.placeholders where !declared.contains(name) {
                throw .unknownPlaceholder(name, declared: declared, field: languages.map { "language.variants.\($0.codes[index])" } ?? "body")
            }
        }
        var patterns: [String: AnchoredPattern] = [:]
        for variable in variables {
            if variable.type != .string {
                if variable.maxLength != nil { throw .constraintOnWrongType(variable: variable.name, constraint: "max_length") }
                if variable.pattern != nil { throw .constraintOnWrongType(variable: variable.name, constraint: "pattern") }
            }
            if let pattern = variable.pattern {
                guard let compiled = AnchoredPattern(pattern) else {
                    throw .invalidPattern(variable: variable.name, pattern: pattern)
                }
                patterns[variable.name] = compiled
            }
            if let value = variable.defaultValue {
                switch ValueChecker.check(Array(value.utf8), as: variable, pattern: patterns[variable.name]) {
                case .success: break
                case .failure(let problem): throw .invalidDefault(variable: variable.name, reason: problem.detail)
                }
            }
        }
        self.id = id
        self.channel = channel
        self.variables = variables
        self.variants = variants
        self.languages = languages
        self.patterns = patterns
    }

    /// Binds the template to a CSV header: which column feeds which variable.
    /// Every required variable without a default must be a column.
    public func bind(columns: [String]) throws(BindingError) -> RowRenderer {
        var missing: [String] = []
        var slots: [RowRenderer.Slot] = []
        for variable in variables {
            let column = columns.firstIndex(of: variable.name)
            if column == nil, variable.required, variable.defaultValue == nil { missing.append(variable.name) }
            slots.append(.init(spec: variable, column: column, pattern: patterns[variable.name]))
        }
        guard missing.isEmpty else { throw BindingError(missingVariables: missing, columns: columns) }
        var languageColumn: Int?
        if let languages {
            guard let column = columns.firstIndex(of: languages.column) else {
                throw BindingError(missingVariables: [], missingLanguageColumn: languages.column, columns: columns)
            }
            languageColumn = column
        }
        let index = Dictionary(uniqueKeysWithValues: variables.enumerated().map { ($1.name, $0) })
        // Every name was checked against the variables at init.
        func pieces(_ segments: [TemplateBody.Segment]) -> [RowRenderer.Piece] {
            segments.map {
                switch $0 {
                case .literal(let bytes): return .literal(bytes)
                case .placeholder(let name): return .slot(index[name]!)
                case .jsonPlaceholder(let name): return .jsonSlot(index[name]!)
                case .conditional(let name, let negated, let inner): return .conditional(index[name]!, negated: negated, pieces(inner))
                }
            }
        }
        return RowRenderer(slots: slots, variants: variants.map { pieces($0.body.segments) }, languages: languages,
                           languageColumn: languageColumn)
    }
}

/// Required template variables that the recipient CSV has no column for.
public struct BindingError: Error, Sendable, CustomStringConvertible {
    public let missingVariables: [String]
    /// `language.column` when the CSV lacks it.
    public var missingLanguageColumn: String?
    public let columns: [String]

    public init(missingVariables: [String], missingLanguageColumn: String? = nil, columns: [String]) {
        self.missingVariables = missingVariables
        self.missingLanguageColumn = missingLanguageColumn
        self.columns = columns
    }

    public var description: String {
        if let column = missingLanguageColumn {
            return "the template's language column \(column.quoted) is not a column (columns: \(columns.joined(separator: ", ")))"
        }
        let names = missingVariables.map { $0.quoted }.joined(separator: ", ")
        let noun = missingVariables.count == 1 ? "variable" : "variables"
        return "required template \(noun) \(names) \(missingVariables.count == 1 ? "is" : "are") not a column (columns: \(columns.joined(separator: ", ")))"
    }
}

/// A regular expression that must match a whole value.
/// NSRegularExpression is immutable once built and documented as safe to use from
/// several threads at once, hence `@unchecked Sendable`.
struct AnchoredPattern: @unchecked Sendable {
    let source: String
    private let regex: NSRegularExpression

    init?(_ source: String) {
        guard let regex = try? NSRegularExpression(pattern: "^(?:\(source))$") else { return nil }
        self.source = source
        self.regex = regex
    }

    func matches(_ value: String) -> Bool {
        let range = NSRange(value.startIndex..<value.endIndex, in: value)
        return regex.firstMatch(in: value, options: [], range: range) != nil
    }
}
