import HeraldJournal
import HeraldProviders

extension CampaignRecord {
    /// The provider the campaign file names (the simulator for a `--simulate` run), as
    /// reports show it.
    public var providerName: String {
        if mode == .simulation { return ProviderKind.simulator.name }
        guard let plan = try? CampaignPlan.load(campaignPath: campaignPath) else { return "unknown (campaign file not found)" }
        return plan.spec.provider.kind.name
    }
}
