import HeraldCore
import HeraldProviders

/// Whether a campaign's provider can send its template at all, checked when the
/// campaign is loaded: the channel, the content's fixed parts against the
/// provider's rules, and the provider settings the channel needs.
enum ProviderFit {
    static func check(spec: CampaignSpec, template: Template) throws(InputError) {
        let target = spec.provider.target
        let issues = ContentRules.check(template.layout, channel: template.channel, target: target, rendered: false)
        if let first = issues.first {
            let more = issues.count > 1 ? " (and \(issues.count - 1) more: \(issues.dropFirst().prefix(3).map(\.description).joined(separator: "; ")))" : ""
            throw InputError(file: spec.templatePath, "\(first) for provider \(target.rawValue)\(more)")
        }
        if let problem = settingsProblem(spec.provider, template: template) {
            throw InputError(file: spec.campaignPath, "provider: \(problem)")
        }
    }

    /// A setting the provider needs for this template and lacks.
    static func settingsProblem(_ provider: CampaignSpec.ProviderSpec, template: Template) -> String? {
        let fallback: Bool
        if case .rcs(let content) = template.layout {
            fallback = content.fallbackSMS != nil || content.fallbackMMS != nil
        } else {
            fallback = false
        }
        switch provider {
        case .simulator:
            return nil
        case .aws(let aws):
            let channel = template.channel
            if [.mms, .voice, .rcs].contains(channel), aws.originationIdentity == nil {
                return "origination_identity is required to send \(channel.rawValue) through AWS"
            }
            if [.notifyText, .notifyVoice].contains(channel), aws.notifyConfigurationID == nil {
                return "notify_configuration_id is required to send \(channel.rawValue) through AWS"
            }
            if channel == .rcs, (aws.ttlSeconds ?? 0) > 172_800 {
                return "ttl_seconds is at most 172800 (48 hours) for RCS"
            }
            if template.channel == .voice || template.channel == .notifyVoice, let voice = aws.voiceID,
                !AWSVoices.all.contains(voice)
            {
                return "voice_id \"\(voice)\" is not an Amazon Polly voice AWS takes (e.g. JOANNA, MATTHEW, AMY)"
            }
            return nil
        case .agile(let agile):
            if fallback, agile.fallbackSender == nil {
                return "the template has fallback_sms: set fallback_sender (the SMS sender Agile uses)"
            }
            return nil
        case .v5(let v5):
            if fallback, v5.fallbackSender == nil {
                return "the template has a fallback: set fallback_sender (the failoverSource of smsFailover / mmsFailover)"
            }
            return nil
        }
    }
}
