import ArgumentParser
import HeraldEngine

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the campaign file, template and every recipient row; send nothing.")

    @Argument(help: "Campaign file (YAML).")
    var file: String

    @Option(help: "How many row problems to list before summarising the rest.")
    var maxProblems = 50

    @OptionGroup var journal: JournalOptions

    func run() async throws {
        do {
            let plan = try CampaignPlan.load(campaignPath: file)
            let report = try plan.validate(listLimit: maxProblems, journalPath: journal.path)
            for problem in report.problems { print(problem) }
            if report.problemCount > report.problems.count {
                print("... and \(Terminal.format(report.problemCount - report.problems.count)) more problems")
            }
            print(Output.validationLine(report))
            if !report.isClean { throw ExitCode(ExitStatus.invalidInput.rawValue) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
