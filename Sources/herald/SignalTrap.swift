import Dispatch
import Foundation
import HeraldEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT / SIGTERM handling for a run: the first signal asks the engine to stop
/// cleanly (no new claims, in-flight sends settled); a second one exits at once.
/// Exiting at once is safe: every committed step is in the journal, and rows still
/// `sending` come back `in_doubt` on the next start.
///
/// swift-service-lifecycle's ServiceGroup reports a signal as a graceful shutdown
/// but neither which signal it was (the exit code differs) nor a second one,
/// which must end the process; so the sources are set up here.
final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    init(stop: StopSignal) {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if stop.requested != nil {
                    Terminal.note("second signal: exiting now; rows in flight will be in doubt on resume")
                    _exit(number == SIGTERM ? 143 : 130)
                }
                stop.request(.signal(number))
                Terminal.note("stopping: finishing in-flight sends (signal again to exit at once)")
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
