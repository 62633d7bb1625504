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
            if route.fallbackOnly {
                try checkFallback(route, spec: spec, template: template)
                continue
            }
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

    /// An entry another's `sms_fallback:` names: the template is RCS with a `fallback_sms` in
    /// every variant (what it sends), and the provider can send SMS with its settings.
    static func checkFallback(_ route: ProviderRoute, spec: CampaignSpec, template: Template) throws(InputError) {
        let place = "providers: \(route.name.quoted) (an sms_fallback)"
        guard template.channel == .rcs else {
            throw InputError(file: spec.campaignPath, line: route.line, "\(place): the template is \(template.channel.rawValue); sms_fallback is for RCS")
        }
        let lacking = template.variants.contains {
            guard case .rcs(let content) = $0.layout else { return true }
            return content.fallbackSMS == nil
        }
        if lacking {
            throw InputError(file: spec.templatePath, "sms_fallback in \(spec.campaignPath) sends the template's fallback_sms: give every variant one")
        }
        guard route.provider.target.channels.contains(.sms) else {
            throw InputError(file: spec.campaignPath, line: route.line, "\(place): \(route.provider.kind.name) does not send SMS")
        }
        if let problem = route.provider.settings.problem(sending: .sms, fallback: false) {
            throw InputError(file: spec.campaignPath, line: route.line, "\(place): \(problem)")
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
