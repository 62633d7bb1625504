import Foundation
import HeraldCore
import HeraldJournal

/// `herald report --csv`: one line per recipient, in file order, streamed (memory stays
/// flat at any row count). Numbers are masked (`+1******0101`) unless asked otherwise.
public enum RecipientCSV {
    public static let header = "line,phone,country,state,reason,detail,parts,cost,sent_at,delivery,delivered_at,read_at,provider_ref\n"

    /// Writes every row of campaign `cid` to `path`; returns how many.
    @discardableResult
    /// `routes` names the providers of a campaign with several: a column, `provider`, names each row's.
    /// With `languages` (a template with variants), a last column, `language`, names each row's.
    public static func write(journal: any ReportingJournal, cid: Int64, to path: String, unmasked: Bool = false,
                             routes: [String] = [], languages: Bool = false) throws -> Int {
        let handle = try PrivateFiles.create(path)
        defer { try? handle.close() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        let columns = String(header.dropLast()) + (routes.isEmpty ? "" : ",provider") + (languages ? ",language" : "") + "\n"
        buffer.append(contentsOf: columns.utf8)
        var rows = 0
        try journal.forEachRecipient(cid: cid) { line in
            rows += 1
            appendInteger(line.row, to: &buffer)
            buffer.append(UInt8(ascii: ","))
            if let destination = line.destination {
                if unmasked {
                    buffer.append(UInt8(ascii: "+"))
                    appendInteger(Int(destination), to: &buffer)
                } else {
                    PhoneNumber.appendMasked(digits: destination, region: line.region ?? "", to: &buffer)
                }
            }
            buffer.append(UInt8(ascii: ","))
            appendField(line.region, to: &buffer)
            buffer.append(contentsOf: line.state.name.utf8)
            buffer.append(UInt8(ascii: ","))
            appendField(line.reason, to: &buffer)
            appendField(line.detail, to: &buffer)
            appendInteger(line.parts, to: &buffer)
            buffer.append(UInt8(ascii: ","))
            appendMoney(line.cost, to: &buffer)
            buffer.append(UInt8(ascii: ","))
            if line.state == .sent { appendTime(line.updatedAt, to: &buffer) }
            buffer.append(UInt8(ascii: ","))
            appendField(line.delivery, to: &buffer)
            if let at = line.deliveredAt { appendTime(at, to: &buffer) }
            buffer.append(UInt8(ascii: ","))
            if let at = line.readAt { appendTime(at, to: &buffer) }
            buffer.append(UInt8(ascii: ","))
            if let reference = line.providerRef { appendQuoted(reference, to: &buffer) }
            if !routes.isEmpty {
                buffer.append(UInt8(ascii: ","))
                buffer.append(contentsOf: routes[routes.indices.contains(line.route) ? line.route : 0].utf8)
            }
            if languages {
                buffer.append(UInt8(ascii: ","))
                if let language = line.language { appendQuoted(language, to: &buffer) }
            }
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= 1 << 20 {
                handle.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        handle.write(Data(buffer))
        return rows
    }

    /// A field and its comma (`CSVCell`).
    static func appendField(_ text: String?, to buffer: inout [UInt8]) {
        if let text { appendQuoted(text, to: &buffer) }
        buffer.append(UInt8(ascii: ","))
    }

    /// A text cell: control characters escaped, formulas neutralised, quoted when it needs to be.
    static func appendQuoted(_ text: String, to buffer: inout [UInt8]) {
        CSVCell.append(text, to: &buffer)
    }

    /// Nano-dollars as a decimal (`0.00581`), as `Money` writes them.
    static func appendMoney(_ nanos: Int64, to buffer: inout [UInt8]) {
        // The magnitude: a stored amount may be any Int64, `Int64.min` too, and never traps here.
        if nanos < 0 { buffer.append(UInt8(ascii: "-")) }
        let value = nanos.magnitude
        appendInteger(UInt64(value / 1_000_000_000), to: &buffer)
        var fraction = value % 1_000_000_000
        guard fraction != 0 else { return }
        var width = 9
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        buffer.append(UInt8(ascii: "."))
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width)
        for index in stride(from: width - 1, through: 0, by: -1) {
            digits[index] = UInt8(ascii: "0") + UInt8(fraction % 10)
            fraction /= 10
        }
        buffer.append(contentsOf: digits)
    }

    static func appendInteger(_ value: Int, to buffer: inout [UInt8]) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        appendInteger(UInt64(value.magnitude), to: &buffer)
    }

    static func appendInteger(_ value: UInt64, to buffer: inout [UInt8]) {
        var value = value
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 24 digits, no allocation
        var count = 0
        withUnsafeMutableBytes(of: &digits) { bytes in
            repeat {
                bytes[count] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
                count += 1
            } while value > 0
            for index in stride(from: count - 1, through: 0, by: -1) { buffer.append(bytes[index]) }
        }
    }

    /// Milliseconds since 1970 as `2026-11-30T09:41:07Z` (UTC), without a formatter.
    static func appendTime(_ milliseconds: Int64, to buffer: inout [UInt8]) {
        let date = CivilDate(milliseconds: milliseconds)
        let (year, month, day, secondOfDay) = (date.year, date.month, date.day, date.secondOfDay)
        func two(_ value: Int) {
            buffer.append(UInt8(ascii: "0") + UInt8(value / 10))
            buffer.append(UInt8(ascii: "0") + UInt8(value % 10))
        }
        appendInteger(year, to: &buffer)
        buffer.append(UInt8(ascii: "-")); two(month)
        buffer.append(UInt8(ascii: "-")); two(day)
        buffer.append(UInt8(ascii: "T")); two(secondOfDay / 3600)
        buffer.append(UInt8(ascii: ":")); two(secondOfDay / 60 % 60)
        buffer.append(UInt8(ascii: ":")); two(secondOfDay % 60)
        buffer.append(UInt8(ascii: "Z"))
    }
}
