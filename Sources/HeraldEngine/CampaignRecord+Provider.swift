import HeraldJournal
import HeraldProviders

extension CampaignRecord {
    /// The provider the campaign file names (the simulator for a `--simulate` run), as
    /// reports show it.
    public var providerName: String {
        if mode == .simulation { return ProviderKind.simulator.name }
        guard let plan = try? CampaignPlan.load(campaignPath: campaignPath) else { return "unknown (campaign file not found)" }
        let spec = plan.spec
        guard spec.isRouted else { return spec.provider.kind.name }
        return spec.routes.map { "\($0.name) (\($0.provider.kind.name))" }.joined(separator: ", ") + ", \(spec.routing.rawValue)"
    }
}

extension CampaignRecord {
    /// The providers of a campaign with several (name and kind, in its file's order); empty
    /// for one provider or a campaign file no longer readable. A `--simulate` run keeps the
    /// routes its rows recorded (each went to the simulator).
    public var routeNames: [(name: String, kind: String)] {
        guard let spec = try? CampaignSpec.load(path: campaignPath), spec.isRouted else { return [] }
        return spec.routes.map { ($0.name, $0.provider.kind.name) }
    }
}

extension CampaignRecord {
    /// The languages of the campaign's template (`language:`), in its file's order; empty for a
    /// template without, or a campaign file no longer readable.
    public var languageCodes: [String] {
        guard let spec = try? CampaignSpec.load(path: campaignPath),
              let languages = (try? TemplateFile.load(path: spec.templatePath))?.languages else { return [] }
        return languages.codes
    }
}
