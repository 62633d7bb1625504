import HeraldJournal
import HeraldProviders

/// What a report shows of a campaign's files, read once for a report, its CSV or a live page:
/// its provider(s) and its template's languages.
public struct CampaignFileFacts: Sendable {
    /// The provider the campaign file names (the simulator for a `--simulate` run), as reports
    /// show it.
    public let providerName: String
    /// The providers of a campaign with several (name and kind, in its file's order); empty for
    /// one provider or a campaign file no longer readable.
    public let routeNames: [(name: String, kind: String)]
    /// The languages of the campaign's template (`language:`), in its file's order; empty for a
    /// template without, or files no longer readable.
    public let languageCodes: [String]
}

extension CampaignRecord {
    /// The campaign file (and its template) read once; what cannot be read any more says so.
    public var fileFacts: CampaignFileFacts {
        guard let spec = try? CampaignSpec.load(path: campaignPath) else {
            return CampaignFileFacts(providerName: mode == .simulation ? ProviderKind.simulator.name : "unknown (campaign file not found)",
                                     routeNames: [], languageCodes: [])
        }
        let provider: String
        if mode == .simulation {
            provider = ProviderKind.simulator.name
        } else if spec.isRouted {
            provider = spec.routes.map { "\($0.name) (\($0.provider.kind.name))" }.joined(separator: ", ") + ", \(spec.routing.rawValue)"
        } else {
            provider = spec.provider.kind.name
        }
        // A `--simulate` run keeps the routes its rows recorded (each went to the simulator).
        let routes = spec.isRouted ? spec.routes.map { ($0.name, $0.provider.kind.name) } : []
        let languages = (try? TemplateFile.load(path: spec.templatePath))?.languages?.codes ?? []
        return CampaignFileFacts(providerName: provider, routeNames: routes, languageCodes: languages)
    }
}
