import Foundation
import HeraldCore
import HeraldSettings
import Yams

/// Reads `templates/*.yaml` into a compiled `Template`. SMS templates have a
/// `body`; the other channels a structure (see `ContentFile`) compiled into a
/// JSON document template.
public enum TemplateFile {
    public static func load(path: String) throws(InputError) -> Template {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "cannot read the template file (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: path, "not UTF-8 text") }
        let top = try YAMLMap.load(file: path, text: text)
        let channelName = try top.string("channel") ?? "sms"
        guard let channel = Channel(rawValue: channelName) else {
            throw top.error("channel", "\(channelName.quoted) is not a channel (\(Channel.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let languageMap = try top.map("language")
        try top.onlyKeys(["id", "channel", "variables"] + (languageMap == nil ? ContentFile.keys(channel) : ["language"]))
        let id = try top.requiredString("id")
        var variables: [VariableSpec] = []
        if let map = try top.map("variables") {
            for name in map.keys {
                guard let spec = try map.map(name) else { continue }
                variables.append(try variable(name, spec))
            }
        }
        let declared = variables.map(\.name)
        guard let languageMap else {
            let variant = try self.variant(top, channel: channel, declared: declared, field: "body")
            do throws(TemplateError) {
                return try Template(id: id, channel: channel, variables: variables, body: variant.body, layout: variant.layout)
            } catch {
                throw InputError(file: path, line: line(of: error, in: top, content: top, channel: channel), error.description)
            }
        }
        try languageMap.onlyKeys(["column", "default", "variants"])
        let column = try languageMap.requiredString("column")
        guard let variantsMap = try languageMap.map("variants"), !variantsMap.keys.isEmpty else {
            throw languageMap.missing("variants", "a variant per language: variants: {en: {...}, es: {...}}")
        }
        let codes = variantsMap.keys
        var seen = Set<String>()
        for code in codes {
            guard TemplateLanguages.isCode(code) else {
                throw variantsMap.error(code, "\(code.quoted) is not a language code (like en, es or pt-BR)")
            }
            guard seen.insert(code.lowercased().replacingOccurrences(of: "_", with: "-")).inserted else {
                throw variantsMap.error(code, "language \(code.quoted) has two variants")
            }
        }
        let defaultCode = try languageMap.requiredString("default")
        guard let defaultIndex = codes.firstIndex(of: defaultCode) else {
            throw languageMap.error("default", "\(defaultCode.quoted) has no variant (variants: \(codes.joined(separator: ", ")))")
        }
        var variants: [Template.Variant] = []
        for code in codes {
            guard let map = try variantsMap.map(code) else {
                throw variantsMap.error(code, "a variant holds the template's content keys (\(ContentFile.keys(channel).joined(separator: ", ")))")
            }
            try map.onlyKeys(ContentFile.keys(channel))
            variants.append(try variant(map, channel: channel, declared: declared, field: "language.variants.\(code).body"))
        }
        do throws(TemplateError) {
            return try Template(id: id, channel: channel, variables: variables, variants: variants,
                                languages: TemplateLanguages(column: column, codes: codes, defaultIndex: defaultIndex))
        } catch {
            // An unknown placeholder names its variant's field; the rest are about variables.
            var content = top
            if case .unknownPlaceholder(_, _, let field) = error, let code = codes.first(where: { field == "language.variants.\($0)" }),
               let map = try? variantsMap.map(code) {
                content = map
            }
            throw InputError(file: path, line: line(of: error, in: top, content: content, channel: channel), error.description)
        }
    }

    /// The content of one variant (the whole template without languages), compiled.
    private static func variant(_ map: YAMLMap, channel: Channel, declared: [String], field: String) throws(InputError) -> Template.Variant {
        let layout = try ContentFile.layout(map, channel: channel, variables: declared)
        let smsBody = layout == .text ? try map.requiredString("body") : ""
        do throws(TemplateError) {
            if let compiled = try layout.compile(declared: declared) { return Template.Variant(body: compiled, layout: layout) }
            return Template.Variant(body: try TemplateBody(parsing: smsBody, field: field), layout: layout)
        } catch {
            throw InputError(file: map.file, line: map.line(of: ContentFile.contentKey(channel)), error.description)
        }
    }

    /// Where a template error is: a variable's own key (its default, pattern or max_length),
    /// else the content it is about.
    private static func line(of error: TemplateError, in top: YAMLMap, content: YAMLMap, channel: Channel) -> Int? {
        let key: (variable: String, key: String)?
        switch error {
        case .invalidDefault(let variable, _): key = (variable, "default")
        case .invalidPattern(let variable, _): key = (variable, "pattern")
        case .constraintOnWrongType(let variable, let constraint): key = (variable, constraint)
        case .malformedPlaceholder, .unknownPlaceholder, .unclosedCondition, .conditionTooDeep: key = nil
        }
        guard let key else { return content.line(of: ContentFile.contentKey(channel)) }
        guard let variables = try? top.map("variables"), let spec = try? variables.map(key.variable) else {
            return top.line(of: "variables")
        }
        return spec.line(of: key.key)
    }

    private static func variable(_ name: String, _ map: YAMLMap) throws(InputError) -> VariableSpec {
        try map.onlyKeys(["type", "required", "default", "max_length", "pattern"])
        let typeName = try map.string("type") ?? "string"
        guard let type = VariableType(rawValue: typeName) else {
            throw map.error("type", "\(typeName.quoted) is not a variable type (string, integer, boolean)")
        }
        return VariableSpec(
            name: name, type: type, required: try map.bool("required") ?? false,
            defaultValue: try map.string("default"), maxLength: try map.int("max_length", in: 1...10_000),
            pattern: try map.string("pattern"))
    }
}

extension TemplateError {
    var isAboutVariables: Bool {
        switch self {
        case .invalidDefault, .invalidPattern, .constraintOnWrongType: return true
        case .malformedPlaceholder, .unknownPlaceholder, .unclosedCondition, .conditionTooDeep: return false
        }
    }
}
