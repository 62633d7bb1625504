import HeraldCore
import HeraldSettings
import HeraldJournal

/// Everything needed to validate, import or send a campaign, loaded and checked
/// before the journal is touched: campaign file, compiled template and the
/// recipient CSV's header bound to the template.
public struct CampaignPlan: Sendable {
    public let spec: CampaignSpec
    public let template: Template
    public let templateSHA: String
    /// Prices from the campaign's `prices` file; nil when it names none.
    public let priceBook: PriceBook?
    /// Each route's prices, in `spec.routes` order: its own `prices:`, else the campaign's.
    public let routeBooks: [PriceBook?]
    /// `where:`, checked against the template's variables; nil: every row.
    public var segment: Segment?

    public static func load(campaignPath: String) throws(InputError) -> CampaignPlan {
        let spec = try CampaignSpec.load(path: campaignPath)
        let template: Template
        template = try TemplateFile.load(path: spec.templatePath)
        let priceBook = try spec.pricesPath.map { path throws(InputError) in try PriceBookFile.load(path: path) }
        var routeBooks: [PriceBook?] = []
        for route in spec.routes {
            routeBooks.append(try route.pricesPath.map { path throws(InputError) in try PriceBookFile.load(path: path) } ?? priceBook)
        }
        try ProviderFit.check(spec: spec, template: template)
        var plan = CampaignPlan(spec: spec, template: template, templateSHA: try FileDigest.sha256(path: spec.templatePath),
                                priceBook: priceBook, routeBooks: routeBooks)
        if spec.smartEncoding, template.channel != .sms {
            throw InputError(file: campaignPath, line: spec.smartEncodingLine,
                             "smart_encoding: applies to SMS; the template \(spec.templatePath) is \(template.channel.rawValue)")
        }
        if let source = spec.segmentSource {
            do {
                plan.segment = try Segment(source, variables: template.variables)
            } catch {
                throw InputError(file: campaignPath, line: spec.segmentLine, "where: \(error)")
            }
        }
        // Opening the scanner checks the CSV header against the template now,
        // so a missing column is reported before anything else happens.
        _ = try RecipientScanner(plan: plan)
        return plan
    }

    /// The identity the journal checks on every start of this campaign.
    func inputs(recipientsSHA: String) -> CampaignInputs {
        // The rows a campaign holds are its CSV's as `where:` chose them: a changed filter is a
        // changed recipient list (refused once sending started, imported again before).
        var recipients = segment.map { FileDigest.sha256(text: recipientsSHA + "\nwhere: " + $0.source) } ?? recipientsSHA
        // So are bodies rendered another way.
        if spec.smartEncoding { recipients = FileDigest.sha256(text: recipients + "\nsmart_encoding") }
        var inputs = CampaignInputs(id: spec.id, campaignPath: spec.campaignPath, templateSHA: templateSHA,
                                    recipientsSHA: recipients, channel: template.channel)
        inputs.routes = spec.isRouted ? spec.routes.map(\.name) : []
        return inputs
    }
}
