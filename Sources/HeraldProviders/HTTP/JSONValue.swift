import HeraldCore
/// A JSON document an adapter builds for the wire: keys stay in the order they
/// are set, so requests read like the provider's documentation.
enum JSONValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case array([JSONValue])
    case object(JSONObject)

    func write(to output: inout String) {
        switch self {
        case .string(let text): JSONEscape.appendQuoted(text, to: &output)
        case .number(let number):
            output += number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .integer(let number): output += String(number)
        case .bool(let flag): output += flag ? "true" : "false"
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.write(to: &output)
            }
            output += "]"
        case .object(let object): object.write(to: &output)
        }
    }

    var text: String {
        var output = ""
        write(to: &output)
        return output
    }
}

/// A JSON object built field by field; nil values are left out.
struct JSONObject: Sendable, Equatable {
    private(set) var fields: [(key: String, value: JSONValue)] = []

    init() {}

    subscript(key: String) -> JSONValue? {
        get { fields.first { $0.key == key }?.value }
        set {
            fields.removeAll { $0.key == key }
            if let newValue { fields.append((key, newValue)) }
        }
    }

    mutating func set(_ key: String, _ text: String?) {
        if let text { self[key] = .string(text) }
    }

    func write(to output: inout String) {
        output += "{"
        for (index, field) in fields.enumerated() {
            if index > 0 { output += "," }
            JSONEscape.appendQuoted(field.key, to: &output)
            output += ":"
            field.value.write(to: &output)
        }
        output += "}"
    }

    var text: String {
        var output = ""
        write(to: &output)
        return output
    }

    static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.key == $1.key && $0.value == $1.value }
    }
}
