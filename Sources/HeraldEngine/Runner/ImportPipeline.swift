import Foundation
import HeraldCore
import HeraldJournal
import HeraldCSV
import HeraldSettings

/// Rows scanned from the CSV, handed from the scanning thread to the journal
/// thread in one piece: bodies side by side in one buffer.
final class ScannedBatch: @unchecked Sendable {  // owned by one thread at a time, handed over through a HandOff
    struct Entry {
        var line: Int
        var phone: PhoneNumber?
        var bodyEnd: Int
        var problem: RowProblem?
        var segments: SMSSegments
        var cost: Money
        var route: Int
        var timeZones: String?
        /// The template variant's index in `languages.codes`; nil without languages.
        var language: Int?
        /// The number may repeat an earlier row's (see `DestinationFilter`).
        var maybeRepeat = false
        /// The `where:` clauses a filtered row fails, one bit each.
        var clauseMisses: UInt64 = 0
        /// What `smart_encoding` did to it: replaced characters, and the parts that saved.
        var smartReplaced = false
        var smartSaved = 0
        var fallback: FallbackQuoter.Quote?
    }

    var entries: [Entry] = []
    var bodies: [UInt8] = []

    init(capacity: Int) {
        entries.reserveCapacity(capacity)
        bodies.reserveCapacity(capacity * 96)
    }

    func add(_ row: ScannedRow, keepBody: Bool, maybeRepeat: Bool) {
        if keepBody { bodies.append(contentsOf: row.body) }
        entries.append(.init(line: row.line, phone: row.phone, bodyEnd: bodies.count, problem: row.problem,
                             segments: row.segments, cost: row.cost, route: row.route, timeZones: row.timeZones, language: row.language,
                             maybeRepeat: maybeRepeat, clauseMisses: row.clauseMisses,
                             smartReplaced: row.smartReplaced, smartSaved: row.smartSaved, fallback: row.fallback))
    }
}

extension RecipientScanner {
    /// Threads that check rows: one per core, at most four.
    static var defaultWorkers: Int { min(4, ProcessInfo.processInfo.activeProcessorCount) }

    /// As `produce` without bodies or repeat flags (for `estimate`), the rows checked by `workers`
    /// scanners at once: the reader hands CSV batch i to worker i mod `workers`, and the batches
    /// are taken back in that order, so the rows come out in file order. Each worker has its own
    /// renderer, caches and findings (UCS-2 characters, providers fitted), added to this
    /// scanner's at the end. What depends on earlier rows (duplicates, limits, caps) is the
    /// consumer's, in file order.
    func produceInParallel(into channel: HandOff<ScannedBatch>, workers count: Int) throws {
        let plan = plan
        let quoter = fallbackQuoter
        let scanners = try (0..<count).map { _ in
            let scanner = try RecipientScanner(plan: plan)
            scanner.fallbackQuoter = quoter
            return scanner
        }
        let inputs = (0..<count).map { _ in HandOff<CSVBatch>(capacity: 2) }
        let outputs = (0..<count).map { _ in HandOff<ScannedBatch>(capacity: 2) }
        let reader = UncheckedBox(self.reader)
        inputs[0].startProducer { first in
            // One thread reads and deals the batches out; `first` is closed when it returns, the others here.
            var index = 0
            do {
                while let batch = try reader.value.nextBatch() {
                    guard (index % count == 0 ? first : inputs[index % count]).put(batch) else { throw ProducerCancelled() }
                    index += 1
                }
                for other in inputs.dropFirst() { other.close() }
            } catch {
                for other in inputs.dropFirst() { other.close(error) }
                throw error
            }
        }
        for (worker, scanner) in scanners.enumerated() {
            let box = UncheckedBox(scanner)
            outputs[worker].startProducer { output in
                defer { inputs[worker].cancel() }
                var rendered: [UInt8] = []
                rendered.reserveCapacity(1024)
                do {
                    while let records = try inputs[worker].take() {
                        let batch = ScannedBatch(capacity: records.count)
                        try records.forEach { record in
                            try box.value.check(record, into: &rendered) { batch.add($0, keepBody: false, maybeRepeat: false) }
                        }
                        guard output.put(batch) else { throw ProducerCancelled() }
                    }
                } catch let error as CSVError {
                    throw InputError(error)
                }
            }
        }
        channel.startProducer { [self] channel in
            defer { outputs.forEach { $0.cancel() } }
            var index = 0
            while let batch = try outputs[index % count].take() {
                guard channel.put(batch) else { throw ProducerCancelled() }
                index += 1
            }
            for scanner in scanners {
                culprits.merge(scanner.culprits)
                fitted.formUnion(scanner.fitted)
            }
        }
    }
}

extension RecipientScanner {
    /// Scans on a background thread, handing batches of `batchSize` rows to `channel`
    /// (bodies too, unless `keepBodies` is false).
    /// With `flagRepeats`, valid rows whose number may repeat an earlier one are flagged
    /// here, on the scanning thread, so the journal's thread only writes.
    func produce(into channel: HandOff<ScannedBatch>, batchSize: Int = 4096, keepBodies: Bool = true,
                 flagRepeats: Bool = false) {
        let expected = (try? FileManager.default.attributesOfItem(atPath: plan.spec.recipientsPath)[.size] as? Int) ?? nil
        channel.startProducer { [self] channel in
            var batch = ScannedBatch(capacity: batchSize)
            var filter = flagRepeats ? DestinationFilter(expected: (expected ?? 0) / 24) : nil
            try scan { row in
                var repeats = false
                if row.problem == nil, let phone = row.phone { repeats = filter?.insert(phone.digits) ?? false }
                batch.add(row, keepBody: keepBodies, maybeRepeat: repeats)
                if batch.entries.count == batchSize {
                    guard channel.put(batch) else { throw ProducerCancelled() }
                    batch = ScannedBatch(capacity: batchSize)
                }
            }
            if !batch.entries.isEmpty, !channel.put(batch) { throw ProducerCancelled() }
        }
    }
}

extension RecipientScanner {
    /// The content-rules stage of an import of structured content (RCS, MMS, voice,
    /// Notify): reading each rendered message back and checking it against the
    /// provider's rules is the costliest step, so it runs on a thread of its own
    /// between scanning and the journal. A row gets `invalid_content` exactly as the
    /// inline check would give it (which comes before pricing).
    func checkContent(from input: HandOff<ScannedBatch>, into output: HandOff<ScannedBatch>) {
        let channel = plan.template.channel
        let targets = plan.spec.routes.map(\.provider.target)
        output.startProducer { output in
            defer { input.cancel() }
            while let batch = try input.take() {
                batch.bodies.withUnsafeBufferPointer { bodies in
                    var start = 0
                    for index in batch.entries.indices {
                        let end = batch.entries[index].bodyEnd
                        defer { start = end }
                        let problem = batch.entries[index].problem
                        guard problem == nil || problem?.reason == .noPrice else { continue }
                        let body = UnsafeBufferPointer(rebasing: bodies[start..<end])
                        let target = targets[batch.entries[index].route]
                        if let issue = ContentRules.firstIssue(rendered: body, channel: channel, target: target) {
                            batch.entries[index].problem = RowProblem(reason: .invalidContent, detail: issue.description)
                        }
                    }
                }
                guard output.put(batch) else { throw ProducerCancelled() }
            }
        }
    }
}

