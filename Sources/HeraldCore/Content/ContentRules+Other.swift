/// MMS, voice and Notify limits, from the AWS service model (`SendMediaMessage`,
/// `SendVoiceMessage`, `SendNotify*Message`); the simulator takes the same.
extension ContentRules {
    mutating func check(mms: MMSContent) {
        text("mms.body", mms.body, 1...1600)
        if mms.mediaURLs.isEmpty { issue("mms.media_urls", "an MMS needs a media URL") }
        count("mms.media_urls", mms.mediaURLs, max: target.mms.maxMedia, what: "media URLs")
        for (index, url) in mms.mediaURLs.enumerated() {
            self.url("mms.media_urls[\(index)]", url, schemes: target.mms.mediaSchemes, max: 2048, required: true)
        }
    }

    mutating func check(voice: VoiceContent) {
        text("voice.body", voice.body, 1...6000, required: true)
        oneOf("voice.text_type", voice.textType, ["TEXT", "SSML"])
    }

    mutating func check(notify: NotifyContent) {
        if let id = notify.templateID, known(id),
            !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        {
            issue("notify.template_id", "\"\(id.clippedForIssue)\" may hold only letters, digits, _ and -")
        }
        count("notify.variables", Array(notify.variables.keys), max: 20, what: "variables")
        for name in notify.variables.keys.sorted() {
            if name.count > 64 || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                issue("notify.variables.\(name)", "a Notify variable name has 1-64 letters, digits or _")
            }
            text("notify.variables.\(name)", notify.variables[name], 0...2048)
        }
    }
}
