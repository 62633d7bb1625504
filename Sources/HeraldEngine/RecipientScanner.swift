import Foundation
import HeraldCSV
import HeraldCore
import HeraldSettings
import HeraldJournal

/// One recipient row after checking: what to send, or why not. The body is only
/// valid during the callback it is passed to.
struct ScannedRow {
    var line: Int
    var phone: PhoneNumber?
    var body: UnsafeBufferPointer<UInt8>
    var problem: RowProblem?
    /// SMS encoding and parts of the body (one part for other channels).
    var segments = SMSSegments(encoding: .gsm7, parts: 1, units: 0)
    /// What the message costs; zero without a price book.
    var cost = Money.zero
    /// The provider it goes through (`spec.routes` index).
    var route = 0
    /// For a row `where:` leaves out: the top-level clauses it fails, one bit each (the first 64).
    var clauseMisses: UInt64 = 0
    /// SMS parts of the text as written, when `smart_encoding` replaced anything in it.
    var partsAsWritten: Int?
    /// SMS parts `smart_encoding` saved on this row (0: nothing replaced, or no saving).
    var smartSaved: Int { partsAsWritten.map { max(0, $0 - segments.parts) } ?? 0 }
    var smartReplaced: Bool { partsAsWritten != nil }
    /// Zone(s) the send window is read in, comma-separated; nil without a window.
    var timeZones: String?
    /// The template variant it renders (index in `languages.codes`); nil without languages.
    var language: Int?
    /// For `estimate`, on a route with `sms_fallback:`: the SMS it would fall back to.
    var fallback: FallbackQuoter.Quote?
}

/// Reads the recipient CSV and checks every row against the template: field
/// count, UTF-8, phone number, each variable's type and constraints, then renders
/// the body. Streaming: memory does not grow with the file.
///
/// `@unchecked Sendable`: a scanner is used by one thread at a time; `produce`
/// hands it to the scanning thread and its creator does not touch it again.
final class RecipientScanner: @unchecked Sendable {
    let plan: CampaignPlan
    let reader: CSVReader
    let renderer: RowRenderer
    let phoneColumn: Int
    let timezoneColumn: Int?
    private let checkedColumns: [Int]
    /// Zone names from the time zone column already checked, and whether they are valid.
    private var knownZones: [String: Bool] = [:]
    /// Leave the content rules to a stage of their own (`checkContent`), for imports.
    var deferContentRules = false
    /// How the provider counts SMS parts (`ContentTarget.smsPacking`).
    private let packing: SMSPacking
    /// The last region priced and its price for one unit (nil: the book has none).
    private var lastPrice: (region: String, unit: Money?) = ("", nil)
    /// With several providers: each one's packing, rules and prices.
    private var quoter: RouteQuoter?
    /// Routes that took at least one row (its country, its channel, a price): read once the
    /// scan has ended, to refuse a provider that fits no row.
    var fitted: Set<Int> = []
    /// The characters that made SMS rows UCS-2: read once the scan has ended.
    var culprits = UCS2Culprits()
    /// Set by `estimate` for a campaign with `sms_fallback:`: each valid row's fallback SMS is
    /// quoted here, on the checking threads.
    var fallbackQuoter: FallbackQuoter?
    /// Smart encoding's output, its storage reused row after row.
    private var smartOutput: [UInt8] = []
    private let routeRule: RouteRule
    /// Whether the template has variants by language (read once: the plan is a value, and
    /// reading through it on every row copies what it holds).
    private let hasLanguages: Bool
    /// Read once, as `hasLanguages`: the channel, whether a price book is set, and the window's
    /// fixed zone (`window` false: no window).
    private let channel: Channel
    private let hasPriceBook: Bool
    private let window: (open: Bool, zone: String?)
    /// `where:` bound to the header: the filter, each variable it reads (by `Operand.slot`) as its
    /// column, and the detail of a row each top-level clause leaves out.
    private let segmentProgram: SegmentProgram?
    private let segmentColumns: [Int?]
    private let filteredDetails: [String]

    init(plan: CampaignPlan) throws(InputError) {
        self.plan = plan
        packing = plan.spec.provider.target.smsPacking
        routeRule = RouteRule(strategy: plan.spec.routing)
        if plan.spec.isRouted { quoter = RouteQuoter(plan: plan) }
        let path = plan.spec.recipientsPath
        do {
            reader = try CSVReader(path: path)
        } catch {
            throw InputError(error)
        }
        let header = reader.header
        guard let phone = header.firstIndex(of: plan.spec.phoneColumn) else {
            throw InputError(file: path, line: reader.headerLine,
                             "no column \(plan.spec.phoneColumn.quoted) for phone numbers (columns: \(Self.list(header))); set phone_column in the campaign")
        }
        phoneColumn = phone
        do {
            renderer = try plan.template.bind(columns: header)
        } catch {
            throw InputError(file: path, line: reader.headerLine, "\(error) (template \(plan.spec.templatePath))")
        }
        if let name = plan.spec.timezoneColumn, plan.spec.schedule.window != nil, plan.spec.schedule.zone == nil {
            guard let column = header.firstIndex(of: name) else {
                throw InputError(file: path, line: reader.headerLine,
                                 "no column \(name.quoted) for time zones (columns: \(Self.list(header))); fix timezone_column")
            }
            timezoneColumn = column
        } else {
            timezoneColumn = nil
        }
        checkedColumns = [phone] + renderer.columns + (timezoneColumn.map { [$0] } ?? [])
        hasLanguages = plan.template.languages != nil
        channel = plan.template.channel
        hasPriceBook = plan.priceBook != nil
        window = (plan.spec.schedule.window != nil, plan.spec.schedule.zone)
        segmentProgram = plan.segment?.program
        segmentColumns = (plan.segment?.variables ?? []).map { header.firstIndex(of: $0) }
        filteredDetails = plan.segment?.clauses.map { "left out by where: \($0.text)" } ?? []
    }

    /// Whether `where:` keeps the row (always without one); a row left out is marked `filtered`,
    /// with the clauses it fails.
    private func inSegment(_ record: CSVRecord, _ row: inout ScannedRow) -> Bool {
        guard let program = segmentProgram else { return true }
        var region = row.phone?.region ?? ""
        let (misses, first) = region.withUTF8 { country in
            program.misses { slot in
                if slot < 0 { return row.phone == nil ? nil : country }
                return segmentColumns[slot].map { record[$0] }
            }
        }
        guard let first else { return true }
        row.clauseMisses = misses
        row.problem = RowProblem(reason: .filtered, detail: filteredDetails[first])
        return false
    }

    /// The header's columns for a message: each quoted, at most ten of them.
    static func list(_ header: [String]) -> String {
        header.prefix(10).map(\.quoted).joined(separator: ", ") + (header.count > 10 ? ", and \(header.count - 10) more" : "")
    }

    /// Calls `body` with each data row in file order. libcsv parses on a second
    /// thread while this one checks and renders.
    func scan(_ body: (ScannedRow) throws -> Void) throws {
        let records = HandOff<CSVBatch>(capacity: 4)
        let reader = UncheckedBox(self.reader)
        records.startProducer { records in
            while let batch = try reader.value.nextBatch() {
                guard records.put(batch) else { throw ProducerCancelled() }
            }
        }
        defer { records.cancel() }
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        do {
            while let batch = try records.take() {
                try batch.forEach { record in try check(record, into: &output, body) }
            }
        } catch let error as CSVError {
            throw InputError(error)
        }
    }

    /// Checks one record and hands the result to `body`.
    func check(_ record: CSVRecord, into output: inout [UInt8], _ body: (ScannedRow) throws -> Void) throws {
        let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var row = ScannedRow(line: record.line, phone: nil, body: empty, problem: nil)
        if record.count != reader.header.count {
            row.problem = RowProblem(reason: .malformedRow,
                                     detail: "expected \(reader.header.count) fields as in the header, found \(record.count)")
            return try body(row)
        }
        for column in checkedColumns {
            switch UTF8Check.check(record[column]) {
            case .valid: continue
            case .invalidUTF8:
                row.problem = RowProblem(reason: .invalidUTF8, column: reader.header[column], detail: "not valid UTF-8 text")
            case .controlByte(let byte):
                row.problem = RowProblem(reason: .invalidValue, column: reader.header[column],
                                         detail: "holds the control character \(Unicode.Scalar(byte).escaped(asASCII: true)) "
                                             + "(only tab and line breaks may appear in a field)")
            }
            return try body(row)
        }
        do {
            row.phone = try PhoneNumber.parse(record[phoneColumn], defaultRegion: plan.spec.defaultCountry)
        } catch {
            row.problem = RowProblem(reason: .badNumber, column: plan.spec.phoneColumn, detail: "\(error)")
            return try body(row)
        }
        let variant = renderer.variant(field: { record[$0] })
        if hasLanguages { row.language = variant }
        if let problem = renderer.render(field: { record[$0] }, variant: variant, into: &output) {
            row.problem = problem
            return try body(row)
        }
        guard inSegment(record, &row) else { return try body(row) }
        if plan.spec.smartEncoding, output.withUnsafeBufferPointer({ SmartEncoding.apply($0, into: &smartOutput) }) {
            // The parts as written, for the saving; the parts as sent are counted by `price`.
            row.partsAsWritten = output.withUnsafeBufferPointer { SMSSegments(utf8: $0, packing: packing) }.parts
            swap(&output, &smartOutput)
        }
        if let problem = zone(record, &row) {
            row.problem = problem
            return try body(row)
        }
        try output.withUnsafeBufferPointer { rendered in
            row.body = rendered
            if let problem = price(&row) { row.problem = problem }
            if row.problem == nil, row.segments.encoding == .ucs2, channel == .sms { culprits.note(rendered, line: row.line) }
            if row.problem == nil, let fallbackQuoter {
                row.fallback = fallbackQuoter.quote(rendered: rendered, region: row.phone?.region, route: row.route)
            }
            try body(row)
        }
    }

    /// The zone(s) the row's send window is read in, when the campaign has a window.
    private func zone(_ record: CSVRecord, _ row: inout ScannedRow) -> RowProblem? {
        guard window.open else { return nil }
        if let zone = window.zone {
            row.timeZones = zone
            return nil
        }
        if let column = timezoneColumn, !record[column].isEmpty {
            let name = record.string(column).trimmingSpaces
            let valid = knownZones[name] ?? {
                let valid = TimeZone(identifier: name) != nil
                knownZones[name] = valid
                return valid
            }()
            guard valid else {
                return RowProblem(reason: .badTimezone, column: plan.spec.timezoneColumn,
                                  detail: "\(name.quoted) is not an IANA time zone such as Europe/London")
            }
            row.timeZones = name
            return nil
        }
        guard let phone = row.phone, let zones = RecipientZones.zones(for: phone) else {
            return RowProblem(reason: .noTimezone, detail: "no time zone is known for \(row.phone?.region ?? "this number"); "
                + "add a timezone_column or set schedule.timezone")
        }
        row.timeZones = zones.joined(separator: ",")
        return nil
    }
}

/// Hands a non-Sendable value to exactly one other thread, which then owns it.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension RecipientScanner {
    /// Counts SMS parts, checks the provider's maxima and prices the message.
    func price(_ row: inout ScannedRow) -> RowProblem? {
        if quoter != nil { return route(&row) }
        if channel == .sms {
            row.segments = packing == .codePoints ? SMSSegments(utf8: row.body) : SMSSegments(utf8: row.body, packing: packing)
            let characters = row.body.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
            if let problem = SMSLimits.check(row.segments, characters: characters) { return problem }
        } else if !deferContentRules,
            let issue = ContentRules.firstIssue(rendered: row.body, channel: channel, target: plan.spec.provider.target)
        {
            return RowProblem(reason: .invalidContent, detail: issue.description)
        }
        guard hasPriceBook, let phone = row.phone else { return nil }
        // Rows of one country tend to come together: the last region's price is kept.
        if phone.region != lastPrice.region {
            lastPrice = (phone.region, plan.priceBook?.price(region: phone.region, channel: channel))
        }
        guard let unit = lastPrice.unit else {
            return RowProblem(reason: .noPrice, detail: "the price book has no \(channel.rawValue) price for \(phone.region) (nor for *)")
        }
        row.cost = PriceBook.cost(unit: unit, channel: channel, parts: row.segments.parts)
        return nil
    }
}

extension RecipientScanner {
    /// Chooses the row's provider among those that take it (its country and channel, with a
    /// price for it), each counting parts and pricing its own way (`RouteRule`), then checks
    /// the rendered message against the chosen provider's rules.
    private func route(_ row: inout ScannedRow) -> RowProblem? {
        guard let phone = row.phone, var quoter else { return nil }
        let quote = quoter.quote(region: phone.region, body: row.body)
        self.quoter = quoter
        if fitted.count < quoter.routes.count { fitted.formUnion(quote.candidates.map(\.route)) }
        guard let chosen = routeRule.choose(quote.candidates, line: row.line),
            let position = quote.candidates.firstIndex(where: { $0.route == chosen.route })
        else {
            if !quote.unpriced.isEmpty {
                return RowProblem(reason: .noPrice, detail: "no price for \(channel.rawValue) to \(phone.region) (nor for *) in the price book of "
                    + quote.unpriced.map(\.quoted).joined(separator: ", "))
            }
            return RowProblem(reason: .noRoute, detail: "no provider of the campaign takes \(channel.rawValue) to \(phone.region)")
        }
        row.route = chosen.route
        row.segments = quote.segments[position]
        row.cost = Money(nanos: chosen.cost)
        if channel != .sms, deferContentRules { return nil }
        return quoter.problem(route: chosen.route, segments: row.segments, body: row.body)
    }
}

extension RecipientScanner {
    /// After a scan of a campaign with several providers: an error naming the first provider
    /// of the list that took no row (a country or price book that matches nothing, most likely).
    func checkEveryRouteFits() throws(InputError) {
        guard let routes = quoter?.routes, fitted.count < routes.count,
            let index = routes.indices.first(where: { !fitted.contains($0) && !routes[$0].route.fallbackOnly })
        else { return }
        let route = routes[index].route
        let countries = route.countries.map { " (countries: \($0.sorted().joined(separator: ", ")))" } ?? ""
        throw InputError(file: plan.spec.campaignPath, line: route.line,
                         "providers: \(route.name.quoted) fits no row of \(plan.spec.recipientsPath)\(countries): "
                             + "no row's country and channel with a price in its book; remove it or fix its countries: or prices:")
    }
}

extension CSVError {
    /// The message without the leading `file:line:`, which InputError adds back.
    var descriptionWithoutPlace: String {
        let text = description
        let place = line.map { "\(path):\($0): " } ?? "\(path): "
        return text.hasPrefix(place) ? String(text.dropFirst(place.count)) : text
    }
}

/// UTF-8 validation and a control-character check with an ASCII fast path: most
/// recipient data is ASCII without control characters, checked eight bytes at a time.
enum UTF8Check {
    enum Verdict: Equatable {
        case valid
        case invalidUTF8
        /// A control character other than tab, CR or LF (a NUL from a binary file, say).
        case controlByte(UInt8)
    }

    static func check(_ bytes: UnsafeBufferPointer<UInt8>) -> Verdict {
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            let word = UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self)
            // Stop at a non-ASCII byte, or at a byte below 0x20 or equal to 0x7F.
            let low = (word &- 0x2020_2020_2020_2020) & ~word
            let delete = ((word ^ 0x7F7F_7F7F_7F7F_7F7F) &- 0x0101_0101_0101_0101) & ~(word ^ 0x7F7F_7F7F_7F7F_7F7F)
            if (word | low | delete) & 0x8080_8080_8080_8080 != 0 { break }
            index += 8
        }
        var ascii = true
        for byte in UnsafeBufferPointer(rebasing: bytes[index...]) {
            if byte < 0x20 || byte == 0x7F {
                if byte != 0x09, byte != 0x0A, byte != 0x0D { return .controlByte(byte) }
            } else if byte >= 0x80 {
                ascii = false
            }
        }
        if ascii { return .valid }
        return String(validating: UnsafeBufferPointer(rebasing: bytes[index...]), as: UTF8.self) != nil ? .valid : .invalidUTF8
    }

}
