import ArgumentParser
import Foundation
import HeraldSettings
import HeraldEngine
import HeraldProviders

struct LimitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Show the AWS account's monthly spend limits (DescribeSpendLimits) for a campaign's provider settings.")

    @Argument(help: "Campaign file (YAML) with provider.kind: aws.")
    var file: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        do {
            let plan = try CampaignPlan.load(campaignPath: file)
            // The campaign's AWS provider (the first, when `providers:` lists several).
            guard let configuration = plan.spec.settings(of: AWSConfiguration.self).first else {
                throw InputError(file: plan.spec.campaignPath, "provider: `herald limits` needs provider.kind: aws")
            }
            let transport = AsyncHTTPClientTransport(maxConnections: 1)
            let provider: AWSProvider
            do {
                provider = try AWSProvider(configuration: configuration, transport: transport)
            } catch {
                await transport.shutdown()
                throw InputError(file: plan.spec.campaignPath, "provider: \(error)")
            }
            defer { Task { await provider.shutdown() } }
            let limits = try await provider.describeSpendLimits()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(["spend_limits": limits]), as: UTF8.self))
            } else {
                print("AWS monthly spend limits (USD) in \(provider.region):")
                for limit in limits {
                    print("  \(limit.name): \(limit.enforcedLimit) enforced, \(limit.maxLimit) maximum"
                        + (limit.overridden ? " (overridden)" : ""))
                }
            }
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(error is AWSCallError ? 1 : ExitStatus(for: error).rawValue)
        }
    }
}
