import HeraldCore
import HeraldSettings
import HeraldProviders

/// Whether a campaign's provider can send its template at all, checked when the
/// campaign is loaded: the channel, the content's fixed parts against the
/// provider's rules, and the provider settings the channel needs.
enum ProviderFit {
    static func check(spec: CampaignSpec, template: Template) throws(InputError) {
        for route in spec.routes {
            // A provider of a list that cannot take this template fits no row: a mistake in the file.
            let place = spec.isRouted ? "providers: \(route.name.quoted)" : "provider"
            if let channels = route.channels, !channels.contains(template.channel) {
                throw InputError(file: spec.campaignPath, line: route.line,
                                 "\(place) fits no row: it takes \(channels.map(\.rawValue).sorted().joined(separator: ", ")), the template is \(template.channel.rawValue)")
            }
            let target = route.provider.target
            for (index, variant) in template.variants.enumerated() {
                let issues = ContentRules.check(variant.layout, channel: template.channel, target: target, rendered: false)
                if let first = issues.first {
                    let more = issues.count > 1 ? " (and \(issues.count - 1) more: \(issues.dropFirst().prefix(3).map(\.description).joined(separator: "; ")))" : ""
                    let named = spec.isRouted ? " (\(route.name.quoted) in \(spec.campaignPath))" : ""
                    let language = template.languages.map { "language \($0.codes[index].quoted): " } ?? ""
                    throw InputError(file: spec.templatePath, "\(language)\(first) for provider \(target.name)\(named)\(more)")
                }
            }
            if let problem = settingsProblem(route.provider, template: template) {
                throw InputError(file: spec.campaignPath, line: spec.isRouted ? route.line : nil, "\(place): \(problem)")
            }
        }
    }

    /// A setting the provider needs for this template and lacks.
    static func settingsProblem(_ provider: CampaignSpec.ProviderSpec, template: Template) -> String? {
        let fallback = template.variants.contains {
            guard case .rcs(let content) = $0.layout else { return false }
            return content.fallbackSMS != nil || content.fallbackMMS != nil
        }
        return provider.settings.problem(sending: template.channel, fallback: fallback)
    }
}
