import Foundation
import HeraldCore

/// The request of each AWS Send operation, built from a message's channel and
/// content. Member names, nesting and types follow the service model
/// (`pinpoint-sms-voice-v2`): timestamps are epoch seconds (JSON 1.0), map and
/// union members are objects.
struct AWSRequests {
    let configuration: AWSConfiguration

    /// The operation and its JSON input, or why the content cannot be sent.
    func build(_ message: OutboundMessage) -> Result<(operation: String, body: String), ContentIssue> {
        switch message.channel {
        case .sms:
            return .success(("SendTextMessage", textMessage(message)))
        case .mms:
            guard case .mms(let content) = message.content else { return unreadable(message) }
            var object = head(message, identity: message.sender ?? configuration.originationIdentity)
            object.set("MessageBody", content.body)
            object["MediaUrls"] = .array(content.mediaURLs.map(JSONValue.string))
            common(&object, message, price: "MaxPrice")
            return .success(("SendMediaMessage", object.text))
        case .voice:
            guard case .voice(let content) = message.content else { return unreadable(message) }
            var object = head(message, identity: message.sender ?? configuration.originationIdentity)
            object.set("MessageBody", content.body)
            object.set("MessageBodyTextType", content.textType)
            object.set("VoiceId", configuration.voiceID)
            common(&object, message, price: "MaxPricePerMinute")
            return .success(("SendVoiceMessage", object.text))
        case .rcs:
            guard case .rcs(let content) = message.content else { return unreadable(message) }
            var object = head(message, identity: message.sender ?? configuration.originationIdentity)
            object["RcsMessageContent"] = .object(rcsContent(content))
            if configuration.fallsBackItself, content.fallbackSMS != nil || content.fallbackMMS != nil {
                var fallback = JSONObject()
                fallback.set("Channel", content.fallbackSMS != nil ? "SMS" : "MMS")
                fallback.set("MessageBody", content.fallbackSMS ?? content.fallbackMMS?.body)
                fallback["MediaUrls"] = content.fallbackMMS.map { .array([.string($0.mediaURL)]) }
                fallback.set("OriginationIdentity", configuration.fallbackOriginationIdentity)
                object["FallbackConfiguration"] = .object(fallback)
            }
            common(&object, message, price: "MaxPrice")
            return .success(("SendRcsMessage", object.text))
        case .notifyText, .notifyVoice:
            guard case .notify(let content) = message.content else { return unreadable(message) }
            var object = JSONObject()
            object.set("NotifyConfigurationId", configuration.notifyConfigurationID)
            object.set("DestinationPhoneNumber", message.destination.e164)
            object.set("TemplateId", content.templateID)
            var variables = JSONObject()
            // An optional variable left empty is not sent (values are 1-2048 characters).
            for name in content.variables.keys.sorted() where content.variables[name]?.isEmpty == false {
                variables.set(name, content.variables[name])
            }
            object["TemplateVariables"] = .object(variables)
            if message.channel == .notifyVoice { object.set("VoiceId", configuration.voiceID) }
            common(&object, message, price: nil)
            return .success((message.channel == .notifyText ? "SendNotifyTextMessage" : "SendNotifyVoiceMessage", object.text))
        }
    }

    private func unreadable(_ message: OutboundMessage) -> Result<(operation: String, body: String), ContentIssue> {
        .failure(ContentIssue(message.channel.rawValue, "stored content is not readable"))
    }

    private func head(_ message: OutboundMessage, identity: String?) -> JSONObject {
        var object = JSONObject()
        object.set("DestinationPhoneNumber", message.destination.e164)
        object.set("OriginationIdentity", identity)
        return object
    }

    /// Members every Send operation shares; `price` names the MaxPrice member, if any.
    private func common(_ object: inout JSONObject, _ message: OutboundMessage, price: String?) {
        object.set("ConfigurationSetName", configuration.configurationSet)
        if let price { object.set(price, configuration.maxPrice) }
        if let ttl = configuration.ttlSeconds { object["TimeToLive"] = .integer(ttl) }
        var context = JSONObject()
        context.set("campaign", message.campaign)
        context.set("herald_row", String(message.row))
        for key in configuration.context.keys.sorted() { context.set(key, configuration.context[key]) }
        object["Context"] = .object(context)
        if message.dryRun { object["DryRun"] = .bool(true) }
        if !message.channel.isNotify { object.set("ProtectConfigurationId", configuration.protectConfigurationID) }
        if let feedback = configuration.messageFeedbackEnabled { object["MessageFeedbackEnabled"] = .bool(feedback) }
    }

    /// `SendTextMessage` input, written directly: the hot path of SMS campaigns.
    func textMessage(_ message: OutboundMessage) -> String {
        var fields: [String] = []
        func add(_ name: String, _ value: String?) {
            guard let value else { return }
            var quoted = ""
            JSONEscape.appendQuoted(value, to: &quoted)
            fields.append("\"\(name)\":\(quoted)")
        }
        add("DestinationPhoneNumber", message.destination.e164)
        add("OriginationIdentity", message.sender ?? configuration.originationIdentity)
        add("MessageBody", message.body)
        add("MessageType", configuration.messageType)
        add("Keyword", configuration.keyword)
        add("ConfigurationSetName", configuration.configurationSet)
        add("MaxPrice", configuration.maxPrice)
        if let ttl = configuration.ttlSeconds { fields.append("\"TimeToLive\":\(ttl)") }
        var context = ""
        for (key, value) in [("campaign", message.campaign), ("herald_row", String(message.row))] + configuration.context.sorted(by: { $0.key < $1.key }) {
            if !context.isEmpty { context += "," }
            JSONEscape.appendQuoted(key, to: &context)
            context += ":"
            JSONEscape.appendQuoted(value, to: &context)
        }
        fields.append("\"Context\":{\(context)}")
        if message.dryRun { fields.append("\"DryRun\":true") }
        add("ProtectConfigurationId", configuration.protectConfigurationID)
        if let feedback = configuration.messageFeedbackEnabled { fields.append("\"MessageFeedbackEnabled\":\(feedback)") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    // MARK: RCS

    /// `RcsMessageContent`: one `Content` union member and message-level `Suggestions`.
    func rcsContent(_ content: RCSContent) -> JSONObject {
        var union = JSONObject()
        if let text = content.text {
            var message = JSONObject()
            message.set("Body", text)
            union["TextMessage"] = .object(message)
        } else if let media = content.media {
            var file = JSONObject()
            file.set("FileUrl", media.url)
            file.set("ThumbnailUrl", media.thumbnailURL)
            union["FileMessage"] = .object(file)
        } else if let card = content.card {
            var rich = JSONObject()
            rich.set("CardOrientation", card.orientation ?? "VERTICAL")
            rich.set("ThumbnailImageAlignment", card.thumbnailAlignment)
            rich["CardContent"] = .object(cardContent(card))
            union["RichCard"] = .object(rich)
        } else if let carousel = content.carousel {
            var object = JSONObject()
            object.set("CardWidth", carousel.width ?? "MEDIUM")
            object["CardContents"] = .array(carousel.cards.map { .object(cardContent($0)) })
            union["Carousel"] = .object(object)
        }
        var object = JSONObject()
        object["Content"] = .object(union)
        if let suggestions = content.suggestions, !suggestions.isEmpty {
            object["Suggestions"] = .array(suggestions.map { .object(suggestion($0)) })
        }
        return object
    }

    private func cardContent(_ card: RCSCard) -> JSONObject {
        var object = JSONObject()
        object.set("Title", card.title)
        object.set("Description", card.description)
        if let media = card.media {
            var file = JSONObject()
            file.set("FileUrl", media.url)
            file.set("ThumbnailUrl", media.thumbnailURL)
            file.set("Height", media.height)
            object["Media"] = .object(file)
        }
        if let suggestions = card.suggestions, !suggestions.isEmpty {
            object["Suggestions"] = .array(suggestions.map { .object(suggestion($0)) })
        }
        return object
    }

    /// One `RcsSuggestedAction` union member.
    private func suggestion(_ suggestion: RCSSuggestion) -> JSONObject {
        var action = JSONObject()
        action.set("Text", suggestion.text)
        action.set("PostbackData", suggestion.postbackData)
        let member: String
        switch suggestion.type {
        case .reply: member = "Reply"
        case .requestLocation: member = "RequestLocation"
        case .openURL:
            member = "OpenUrl"
            action.set("Url", suggestion.url)
            action.set("Application", suggestion.application)
            action.set("WebviewViewMode", suggestion.webviewMode)
        case .dial:
            member = "DialPhone"
            action.set("PhoneNumber", suggestion.phone)
        case .showLocation:
            member = "ShowLocation"
            action["Latitude"] = suggestion.latitude.flatMap { Double($0) }.map(JSONValue.number)
            action["Longitude"] = suggestion.longitude.flatMap { Double($0) }.map(JSONValue.number)
            action.set("Label", suggestion.label)
        case .calendar:
            member = "CreateCalendarEvent"
            action.set("Title", suggestion.title)
            action["StartTime"] = suggestion.start.flatMap(ContentJSON.date).map { .number($0.timeIntervalSince1970) }
            action["EndTime"] = suggestion.end.flatMap(ContentJSON.date).map { .number($0.timeIntervalSince1970) }
            action.set("Description", suggestion.description)
        }
        var union = JSONObject()
        union[member] = .object(action)
        return union
    }
}

extension Channel {
    var isNotify: Bool { self == .notifyText || self == .notifyVoice }
}
