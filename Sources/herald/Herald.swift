import ArgumentParser
import HeraldCore

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Send a personalised message to everyone in a recipient CSV, exactly once.",
        discussion: "Exit codes: 0 done, 1 unexpected error, 3 invalid input, 4 journal unusable, "
            + "5 campaign busy in another process, 6 rows left in doubt, 7 budget exhausted, 8 paused or cancelled, 9 provider refused the campaign, 10 counters disagree with rows (doctor), "
            + "130/143 stopped by SIGINT/SIGTERM (resumable), 64 bad command line.",
        version: HeraldVersion.current,
        subcommands: [
            ValidateCommand.self, EstimateCommand.self, PreviewCommand.self, RunCommand.self, ResumeCommand.self, StatusCommand.self,
            ScheduleCommand.self, WorkerCommand.self, PauseCommand.self, CancelCommand.self, LimitsCommand.self,
            DoctorCommand.self, SuppressCommand.self, PurgeCommand.self, ReceiptsCommand.self, ReportCommand.self, ServeCommand.self,
            JournalCommand.self,
        ]
    )

    static func main() async {
        ProcessMemory.configureAllocator()
        await main(nil)
    }
}
