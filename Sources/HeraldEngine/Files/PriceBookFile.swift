import HeraldCSV
import HeraldCore
import HeraldSettings

/// Reads a price book: CSV with header `country,channel,price`, where country is
/// an ISO 3166 alpha-2 code or `*` for every other country. Lines starting with
/// `#` are comments.
public enum PriceBookFile {
    public static func load(path: String) throws(InputError) -> PriceBook {
        let reader: CSVReader
        do {
            reader = try CSVReader(path: path, skipComments: true)
        } catch {
            throw InputError(error)
        }
        guard reader.header == ["country", "channel", "price"] else {
            throw InputError(file: path, line: reader.headerLine,
                             "header must be country,channel,price (found \(reader.header.joined(separator: ",")))")
        }
        var book = PriceBook()
        var failure: InputError?
        do {
            try reader.forEachRecord { record in
                let place = { (message: String) in InputError(file: path, line: record.line, message) }
                guard record.count == 3 else {
                    failure = place("expected 3 fields, found \(record.count)")
                    return false
                }
                let country = record.string(0).trimmingSpaces.uppercased()
                guard country == "*" || (country.count == 2 && country.allSatisfy { $0.isASCII && $0.isLetter }) else {
                    failure = place("column \"country\": \"\(country)\" is not an ISO 3166 alpha-2 code or *")
                    return false
                }
                let channelName = record.string(1).trimmingSpaces
                guard let channel = Channel(rawValue: channelName) else {
                    failure = place("column \"channel\": \"\(channelName)\" is not a channel (\(Channel.allCases.map(\.rawValue).joined(separator: ", ")))")
                    return false
                }
                guard let price = Money(record.string(2)), price.isPrice else {
                    failure = place("column \"price\": \"\(record.string(2))\" is not a price in USD from 0 to \(Money.largestPrice)")
                    return false
                }
                guard book.set(region: country, channel: channel, price: price) else {
                    failure = place("\(country) \(channelName) is priced twice")
                    return false
                }
                return true
            }
        } catch let error as CSVError {
            throw InputError(error)
        } catch {
            throw InputError(file: path, "\(error)")
        }
        if let failure { throw failure }
        return book
    }
}
