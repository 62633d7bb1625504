import Foundation
import HeraldCore
import Mustache

/// `herald preview --html`: each chosen row drawn as a phone shows it, in one self-contained
/// page (styles inline, nothing fetched, no script): SMS as a bubble with its part boundaries
/// marked, RCS cards, carousels and suggestion chips, MMS with its media, voice as its text or
/// SSML; skipped rows with their reason.
public enum PreviewPage {
    public static func html(_ preview: Preview, generatedAt: Date = Date()) throws -> String {
        let template = try MustacheTemplate(string: page)
        return template.render([
            "campaign": preview.campaign, "shown": preview.rows.count, "total": preview.total,
            "generated": ISO8601DateFormatter().string(from: generatedAt),
            "rows": preview.rows.map(context),
        ] as [String: Any])
    }

    static func context(_ row: Preview.Row) -> [String: Any] {
        // Mustache shows a section for any value present, an empty text too: only what is set.
        var item: [String: Any] = ["line": row.line, "phone": row.phone ?? "no valid number", "sent": row.status == "send",
                                   "status": row.status]
        for (key, value) in [("country", row.country), ("detail", row.detail), ("provider", row.provider), ("sender", row.sender), ("language", row.language)] {
            if let value, !value.isEmpty { item[key] = value }
        }
        var facts: [String] = []
        if let encoding = row.encoding { facts.append("SMS \(encoding)") } else { facts.append(row.channel) }
        if let characters = row.characters { facts.append("\(characters) characters") }
        if let parts = row.parts { facts.append(parts == 1 ? "1 part" : "\(parts) parts") }
        if let cost = row.cost, cost > .zero { facts.append("$\(cost)") }
        item["facts"] = facts.joined(separator: " · ")
        guard row.status == "send" || row.status == "filtered", let body = row.body, let channel = Channel(rawValue: row.channel), let content = MessageContent(stored: body, channel: channel)
        else { return item }
        switch content {
        case .text(let text):
            let parts = row.partTexts ?? [text]
            item["hasSMS"] = true
            item["sms"] = parts.enumerated().map { index, part in
                ["text": part, "label": parts.count > 1 ? "part \(index + 1) of \(parts.count)" : "", "boundary": index < parts.count - 1]
                    as [String: Any]
            }
        case .mms(let mms):
            item["mms"] = ["text": mms.body ?? "", "media": mms.mediaURLs] as [String: Any]
        case .voice(let voice):
            item["voice"] = ["text": voice.body, "type": voice.textType]
        case .rcs(let rcs):
            let chips = (rcs.suggestions ?? []).map(\.text)
            var drawn: [String: Any] = ["chips": chips, "hasChips": !chips.isEmpty]
            if let text = rcs.text, !text.isEmpty { drawn["text"] = text }
            if let card = rcs.card {
                drawn["cards"] = [cardContext(card)]
                drawn["hasCards"] = true
            }
            if let carousel = rcs.carousel {
                drawn["cards"] = carousel.cards.map(cardContext)
                drawn["hasCards"] = !carousel.cards.isEmpty
                drawn["carousel"] = true
            }
            if let media = rcs.media { drawn["media"] = media.url }
            if let template = rcs.templateID { drawn["template"] = template }
            if let fallback = rcs.fallbackSMS { drawn["fallback"] = fallback }
            item["rcs"] = drawn
        case .notify(let notify):
            item["notify"] = ["template": notify.templateID ?? "",
                              "variables": notify.variables.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }]
        }
        return item
    }

    static func cardContext(_ card: RCSCard) -> [String: Any] {
        let chips = (card.suggestions ?? []).map(\.text)
        var drawn: [String: Any] = ["chips": chips, "hasChips": !chips.isEmpty]
        for (key, value) in [("title", card.title), ("description", card.description), ("media", card.media?.url)] {
            if let value, !value.isEmpty { drawn[key] = value }
        }
        return drawn
    }

    static let page = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Preview: {{campaign}}</title>
    <style>
    body { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1d1d1f; background: #f2f2f7; }
    h1 { font-size: 22px; margin: 0 0 4px; }
    .sub { color: #555; margin: 0 0 20px; }
    .phones { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
    .phone { width: 340px; background: #fff; border: 10px solid #1d1d1f; border-radius: 36px; padding: 18px 14px 22px; box-shadow: 0 4px 14px rgba(0,0,0,.15); }
    .phone.skipped { border-color: #aeaeb2; background: #fafafa; }
    .head { font-size: 13px; color: #555; border-bottom: 1px solid #e5e5ea; padding-bottom: 8px; margin-bottom: 12px; }
    .head strong { color: #1d1d1f; }
    .bubble { background: #e9e9eb; border-radius: 18px; padding: 10px 14px; max-width: 88%; white-space: pre-wrap; word-wrap: break-word; }
    .part { display: block; }
    .part.boundary { border-bottom: 2px dashed #8e8e93; padding-bottom: 6px; margin-bottom: 6px; }
    .part-label { display: block; font-size: 11px; color: #6e6e73; }
    .facts { font-size: 12px; color: #6e6e73; margin-top: 10px; }
    .card { border: 1px solid #d1d1d6; border-radius: 16px; overflow: hidden; background: #fff; min-width: 200px; }
    .cards { display: flex; gap: 10px; }
    .cards.carousel { overflow-x: auto; }
    .cards.carousel .card { flex: 0 0 220px; }
    .cards:not(.carousel) .card { flex: 1; }
    .media { background: #c7c7cc; height: 110px; display: flex; align-items: center; justify-content: center; font-size: 11px; color: #3a3a3c; padding: 6px; word-break: break-all; text-align: center; }
    .card-body { padding: 10px 12px; }
    .card-title { font-weight: 600; }
    .chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
    .chip { border: 1px solid #0a84ff; color: #0a84ff; border-radius: 14px; padding: 4px 10px; font-size: 13px; }
    .voice { font-family: ui-monospace, Menlo, monospace; font-size: 13px; background: #f5f5f7; border-radius: 10px; padding: 10px; white-space: pre-wrap; }
    .reason { color: #b3261e; font-weight: 600; }
    .fallback { font-size: 12px; color: #555; margin-top: 10px; }
    </style>
    </head>
    <body>
    <h1>Preview: {{campaign}}</h1>
    <p class="sub">{{shown}} of {{total}} rows, as each recipient's phone would show the message. Generated {{generated}}; nothing was sent.</p>
    <div class="phones">
    {{#rows}}
    <section class="phone{{^sent}} skipped{{/sent}}" id="line-{{line}}">
      <div class="head"><strong>line {{line}}</strong> · {{phone}}{{#country}} ({{country}}){{/country}}{{#language}} · in {{language}}{{/language}}{{#provider}}<br>via {{provider}}{{/provider}}{{#sender}} from {{sender}}{{/sender}}</div>
      {{^sent}}<p><span class="reason">skipped: {{status}}</span><br>{{detail}}</p>{{/sent}}
      {{#hasSMS}}<div class="bubble">{{#sms}}<span class="part{{#boundary}} boundary{{/boundary}}">{{#label}}<span class="part-label">{{label}}</span>{{/label}}{{text}}</span>{{/sms}}</div>{{/hasSMS}}
      {{#mms}}<div class="bubble">{{#media}}<div class="media">{{.}}</div>{{/media}}{{text}}</div>{{/mms}}
      {{#voice}}<div class="voice">{{text}}</div>{{/voice}}
      {{#notify}}<div class="voice">template {{template}}{{#variables}}
    {{.}}{{/variables}}</div>{{/notify}}
      {{#rcs}}
        {{#media}}<div class="card"><div class="media">{{media}}</div></div>{{/media}}
        {{#text}}<div class="bubble">{{text}}</div>{{/text}}
        {{#template}}<div class="bubble">provider template {{template}}</div>{{/template}}
        {{#hasCards}}<div class="cards{{#carousel}} carousel{{/carousel}}">{{#cards}}<div class="card">{{#media}}<div class="media">{{media}}</div>{{/media}}<div class="card-body">{{#title}}<div class="card-title">{{title}}</div>{{/title}}{{#description}}<div>{{description}}</div>{{/description}}{{#hasChips}}<div class="chips">{{#chips}}<span class="chip">{{.}}</span>{{/chips}}</div>{{/hasChips}}</div></div>{{/cards}}</div>{{/hasCards}}
        {{#hasChips}}<div class="chips">{{#chips}}<span class="chip">{{.}}</span>{{/chips}}</div>{{/hasChips}}
        {{#fallback}}<p class="fallback">SMS fallback: {{fallback}}</p>{{/fallback}}
      {{/rcs}}
      {{#sent}}<p class="facts">{{facts}}</p>{{/sent}}
    </section>
    {{/rows}}
    </div>
    </body>
    </html>
    """#
}
