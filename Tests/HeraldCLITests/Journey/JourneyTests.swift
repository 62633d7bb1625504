import Foundation
import HeraldTestSupport
import Testing

/// Random journeys over real `herald` processes on SQLite (default path and `--journal`) and
/// PostgreSQL: runs, resumes, limits, pauses, SIGINT, SIGKILL, SIGSTOP past the lease,
/// suppression, receipt imports and a copy to PostgreSQL, with a model checked after every
/// step (`JourneyRunner`). A failure prints its seed, its journey as commands and what each
/// command did.
///
/// - CI: the fixed seeds below, on every store (SIGSTOP steps on PostgreSQL).
/// - Replay one: `HERALD_JOURNEY_SEED=N HERALD_JOURNEY_STORE=sqlite|sqlite-path|postgres swift test --filter JourneyTests/replay`
/// - Long mode: `HERALD_JOURNEYS=1000 [HERALD_JOURNEY_FIRST=S] swift test --filter JourneyTests/many` (prints figures).
@Suite(.serialized) struct JourneyTests {
    static let ciSeeds: [UInt64] = [1, 2, 3, 4, 5, 6]

    static var postgres: String? {
        guard TestPostgres.baseURL != nil else { return nil }
        return try? TestPostgres.freshDatabase("herald_j") + "?sslmode=disable&lease_timeout=2"
    }

    @Test(arguments: Journey.Store.allCases)
    func fixedSeeds(_ store: Journey.Store) async throws {
        if store == .postgres, TestPostgres.baseURL == nil {
            if TestPostgres.required { Issue.record("\(TestPostgres.skipNote); CI must run them") } else { print(TestPostgres.skipNote) }
            return
        }
        // A minute or two of waiting on processes: off the cooperative pool.
        try await onOwnThread {
            var steps = 0, interrupts = 0, kills = 0, freezes = 0, outages = 0, routed = 0, content = 0, pooled = 0
            for seed in Self.ciSeeds {
                let figures = try play(seed: seed &* 7919 &+ UInt64(store.rawValue.count), store: store, record: false)
                steps += figures.steps
                interrupts += figures.interrupts
                kills += figures.kills
                freezes += figures.freezes
                outages += figures.outages
                routed += figures.routed
                content += figures.content
                pooled += figures.pooled
            }
            print("journeys of CI's seeds on \(store): \(steps) steps, SIGINT \(interrupts), SIGKILL \(kills), SIGSTOP \(freezes), journal outages \(outages), "
                  + "\(routed) of \(Self.ciSeeds.count) with two providers, \(content) with segment, languages and smart encoding, "
                  + "\(pooled) with a sender pool")
        }
    }

    @Test func replay() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let seed = environment["HERALD_JOURNEY_SEED"].flatMap(UInt64.init) else { return }
        let store = environment["HERALD_JOURNEY_STORE"].flatMap(Journey.Store.init(rawValue:)) ?? .sqliteDefault
        try play(seed: seed, store: store)
    }

    @Test func many() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let count = environment["HERALD_JOURNEYS"].flatMap(Int.init), count > 0 else { return }
        let first = environment["HERALD_JOURNEY_FIRST"].flatMap(UInt64.init) ?? 1_000
        var total = JourneyRunner.Figures()
        var failures: [String] = []
        let started = Date()
        for index in 0..<count {
            let seed = first + UInt64(index)
            let stores = Journey.Store.allCases.filter { $0 != .postgres || TestPostgres.baseURL != nil }
            let store = stores[Int(seed % UInt64(stores.count))]
            do {
                let figures = try play(seed: seed, store: store, record: false)
                total.steps += figures.steps
                total.processes += figures.processes
                total.interrupts += figures.interrupts
                total.kills += figures.kills
                total.freezes += figures.freezes
                total.outages += figures.outages
                total.sent += figures.sent
                total.routed += figures.routed
                total.content += figures.content
                total.pooled += figures.pooled
            } catch {
                failures.append("seed \(seed) on \(store.rawValue): \(error)")
                print("JOURNEY FAILED\n\(error)")
            }
        }
        print("journeys: \(count) (\(total.routed) with two providers, \(total.content) with segment, languages and smart encoding, "
              + "\(total.pooled) with a sender pool), failed \(failures.count); steps \(total.steps), processes \(total.processes), "
              + "SIGINT \(total.interrupts), SIGKILL \(total.kills), SIGSTOP \(total.freezes), journal outages \(total.outages), messages sent \(total.sent), "
              + "\(Int(Date().timeIntervalSince(started))) s")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
    }

    @discardableResult
    func play(seed: UInt64, store: Journey.Store, record: Bool = true) throws -> JourneyRunner.Figures {
        let postgres = store == .postgres || TestPostgres.baseURL != nil ? Self.postgres : nil
        let journey = Journey(seed: seed, store: store, postgresAvailable: postgres != nil)
        var runner = try JourneyRunner(journey, postgres: postgres)
        do {
            try runner.play()
        } catch let broken as JourneyRunner.Broken {
            // Its folder stays, to look into: the journal, the outbox, the campaign.
            print("journey seed \(seed) left its folder at \(runner.fixture.folder.path)")
            if record { Issue.record("\(broken)") }
            throw broken
        }
        try? FileManager.default.removeItem(at: runner.fixture.folder)
        return runner.figures
    }
}
