import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite struct VersionTests {
    /// `herald --version` answers with the version and exit 0 (it was a bad command line, 64).
    @Test func versionPrintsAndExitsZero() throws {
        let fixture = try CLIFixture()
        let run = try HeraldProcess.run(["--version"], in: fixture.folder)
        #expect(run.status == 0 && run.stdout == HeraldVersion.current + "\n", "\(run.status) \(run.stdout) \(run.stderr)")
    }
}
