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
        try top.onlyKeys(["id", "channel", "variables"] + ContentFile.keys(channel))
        let id = try top.requiredString("id")
        var variables: [VariableSpec] = []
        if let map = try top.map("variables") {
            for name in map.keys {
                guard let spec = try map.map(name) else { continue }
                variables.append(try variable(name, spec))
            }
        }
        let layout = try ContentFile.layout(top, channel: channel, variables: variables.map(\.name))
        let smsBody = layout == .text ? try top.requiredString("body") : ""
        do throws(TemplateError) {
            let body: TemplateBody
            if let compiled = try layout.compile(declared: variables.map(\.name)) {
                body = compiled
            } else {
                body = try TemplateBody(parsing: smsBody)
            }
            return try Template(id: id, channel: channel, variables: variables, body: body, layout: layout)
        } catch {
            throw InputError(file: path, line: line(of: error, in: top, channel: channel), error.description)
        }
    }

    /// Where a template error is: a variable's own key (its default, pattern or max_length),
    /// else the content it is about.
    private static func line(of error: TemplateError, in top: YAMLMap, channel: Channel) -> Int? {
        let key: (variable: String, key: String)?
        switch error {
        case .invalidDefault(let variable, _): key = (variable, "default")
        case .invalidPattern(let variable, _): key = (variable, "pattern")
        case .constraintOnWrongType(let variable, let constraint): key = (variable, constraint)
        case .malformedPlaceholder, .unknownPlaceholder, .unclosedCondition, .conditionTooDeep: key = nil
        }
        guard let key else { return top.line(of: ContentFile.contentKey(channel)) }
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
