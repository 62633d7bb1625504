import Foundation
import Testing
@testable import HeraldCore

/// The JSON reader content is decoded with, against Foundation's on the same input.
@Suite struct JSONTreeTests {
    @Test(arguments: [
        #"{"a":"x","b":["1","2"],"c":{"d":"e"}}"#,
        #" { "a" : "q\"uote\\ back\/slash\n\t\u0001 é \ud83d\ude00" , "n": -1.5e2, "t": true, "f": false, "z": null } "#,
        #"[]"#, #"{}"#, #"[[[]]]"#,
    ])
    func readsWhatFoundationReads(text: String) throws {
        let tree = try #require(JSONTree.parse(Array(text.utf8)))
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        #expect(Self.same(tree, foundation), "\(tree)")
    }

    @Test(arguments: [#"{"a":}"#, #"{"a":"x""#, #"["a",]"#, #""\q""#, #""\ud83d""#, #"{"a":"x"} x"#, "", #"{'a':1}"#])
    func rejectsWhatIsNotJSON(text: String) {
        #expect(JSONTree.parse(Array(text.utf8)) == nil)
    }

    @Test func contentRoundTripsThroughTheEncoder() throws {
        var suggestion = RCSSuggestion(type: .calendar, text: "Add \"it\"")
        suggestion.start = "2030-03-03T15:00:00Z"
        let content = RCSContent(carousel: RCSCarousel(width: "SMALL", cards: [
            RCSCard(title: "Ünïcode 😀", media: RCSMedia(url: "https://e.com/a.jpg", height: "SHORT"), suggestions: [suggestion]),
            RCSCard(description: "line\nbreak"),
        ]), suggestions: [RCSSuggestion(type: .reply, text: "Yes", postback: "y")], fallbackSMS: "fb",
            fallbackMMS: RCSFallbackMMS(body: nil, mediaURL: "s3://b/k", subject: "s"))
        let json = try JSONEncoder().encode(content)
        #expect(ContentJSON.decode(RCSContent.self, from: Array(json)) == content)
        let notify = NotifyContent(templateID: "t-1", variables: ["code": "1", "name": "A \"b\""])
        #expect(ContentJSON.decode(NotifyContent.self, from: Array(try JSONEncoder().encode(notify))) == notify)
    }

    @Test(arguments: [
        ("2030-03-03T15:00:00Z", 1_898_780_400.0),
        ("2030-03-03T16:00:00.000+01:00", 1_898_780_400.0),
        ("2030-03-03T10:00:00-0500", 1_898_780_400.0),
        ("2030-03-03T15:00:00.25Z", 1_898_780_400.25),
        ("2028-02-29T00:00:00Z", 1_835_395_200.0),
        ("1970-01-01T00:00:00Z", 0.0),
    ])
    func iso8601DateTimes(text: String, seconds: Double) {
        #expect(ISO8601.parse(text) == seconds)
    }

    @Test(arguments: ["2030-02-29T00:00:00Z", "2030-03-03T15:00:00", "2030-03-03 15:00:00Z", "2030-13-01T00:00:00Z",
                      "2030-03-03T24:00:00Z", "2030-03-03T15:00:00.Z", "tomorrow", "2030-03-03T15:00:00Z "])
    func notISO8601(text: String) {
        #expect(ISO8601.parse(text) == nil)
    }

    static func same(_ tree: JSONTree, _ value: Any) -> Bool {
        switch tree {
        case .string(let text): return value as? String == text
        case .number(let number): return (value as? NSNumber)?.doubleValue == number
        case .bool(let flag): return (value as? NSNumber)?.boolValue == flag
        case .null: return value is NSNull
        case .array(let elements):
            guard let array = value as? [Any], array.count == elements.count else { return false }
            return zip(elements, array).allSatisfy { same($0, $1) }
        case .object(let object):
            guard let dictionary = value as? [String: Any], dictionary.count == object.count else { return false }
            return object.allSatisfy { member in dictionary[member.key].map { same(member.value, $0) } ?? false }
        }
    }
}
