import Foundation
import HeraldEngine
import HeraldJournal

/// `resume` takes a campaign id or a file: an existing file is used as is,
/// otherwise the id is looked up in the journal for the file it was run from.
enum CampaignLocator {
    static func file(for argument: String, journalPath: String) throws -> String {
        if FileManager.default.fileExists(atPath: argument) { return argument }
        return try campaign(argument, journalPath: journalPath).1.campaignPath
    }

    /// The journal (SQLite or PostgreSQL) and the campaign a command names.
    static func campaign(_ argument: String, journalPath: String) throws -> (any CampaignJournal, CampaignRecord) {
        let journal = try JournalOpener.open(journalPath, create: false)
        let key = CampaignKey(parsing: argument)
        guard let record = try journal.campaign(id: key.id, mode: key.mode) else {
            throw JournalError.unknownCampaign(argument, path: journal.location)
        }
        return (journal, record)
    }
}
