import Foundation
import Testing
@testable import HeraldCSV

/// Writes `contents` to a fresh temporary file and returns its path.
func temporaryFile(_ contents: [UInt8], name: String = "recipients.csv") throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-csv-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try Data(contents).write(to: url)
    return url.path
}

func temporaryFile(_ text: String) throws -> String { try temporaryFile(Array(text.utf8)) }

struct Row: Equatable, CustomStringConvertible {
    let line: Int
    let fields: [String]
    var description: String { "\(line): \(fields)" }
}

func readAll(_ path: String, chunkSize: Int = 1 << 18) throws -> (header: [String], rows: [Row]) {
    let reader = try CSVReader(path: path, chunkSize: chunkSize)
    var rows: [Row] = []
    try reader.forEachRecord { record in
        rows.append(Row(line: record.line, fields: (0..<record.count).map { record.string($0) }))
        return true
    }
    return (reader.header, rows)
}

@Suite struct CSVReaderTests {
    @Test func readsHeaderAndRowsWithLineNumbers() throws {
        let path = try temporaryFile("phone,name\n+1,Ada\n+2,Grace\n")
        let (header, rows) = try readAll(path)
        #expect(header == ["phone", "name"])
        #expect(rows == [Row(line: 2, fields: ["+1", "Ada"]), Row(line: 3, fields: ["+2", "Grace"])])
    }

    @Test func handlesBOMAndCRLFAndMissingFinalNewline() throws {
        let path = try temporaryFile([0xEF, 0xBB, 0xBF] + Array("phone,name\r\n+1,Ada\r\n+2,Grace".utf8))
        let (header, rows) = try readAll(path)
        #expect(header == ["phone", "name"])
        #expect(rows == [Row(line: 2, fields: ["+1", "Ada"]), Row(line: 3, fields: ["+2", "Grace"])])
    }

    @Test func quotedFieldsKeepCommasQuotesAndNewlines() throws {
        let text = "phone,name,note\n+1,\"Hopper, Grace\",\"say \"\"hi\"\"\"\n+2,\"two\nlines\",x\n+3,Alan,\n"
        let (_, rows) = try readAll(try temporaryFile(text))
        #expect(rows == [
            Row(line: 2, fields: ["+1", "Hopper, Grace", "say \"hi\""]),
            Row(line: 3, fields: ["+2", "two\nlines", "x"]),
            Row(line: 5, fields: ["+3", "Alan", ""]),
        ])
    }

    @Test func blankLinesAreSkippedButCounted() throws {
        let (_, rows) = try readAll(try temporaryFile("phone\n\n+1\r\n\r\n+2\n"))
        #expect(rows == [Row(line: 3, fields: ["+1"]), Row(line: 5, fields: ["+2"])])
    }

    @Test func raggedRowsAreHandedOnAsTheyAre() throws {
        let (_, rows) = try readAll(try temporaryFile("a,b\n1\n1,2,3\n"))
        #expect(rows.map(\.fields.count) == [1, 3])
    }

    @Test func recordsSpanningChunksAreReassembled() throws {
        var text = "phone,name,note\n"
        var expected: [Row] = []
        for index in 0..<500 {
            text += "+\(index),\"Name \(index), the \"\"\(index)th\"\"\",n\(index)\n"
            expected.append(Row(line: index + 2, fields: ["+\(index)", "Name \(index), the \"\(index)th\"", "n\(index)"]))
        }
        for chunk in [1, 3, 7, 64, 4096] {
            let (_, rows) = try readAll(try temporaryFile(text), chunkSize: chunk)
            #expect(rows == expected, "chunk size \(chunk)")
        }
    }

    @Test func emptyFileIsAnError() throws {
        let path = try temporaryFile("")
        let error = #expect(throws: CSVError.self) { try CSVReader(path: path) }
        #expect(error?.description.contains("empty") == true)
        #expect(error?.description.hasPrefix(path) == true)
    }

    @Test func headerOnlyHasNoRows() throws {
        let (header, rows) = try readAll(try temporaryFile("phone,name\n"))
        #expect(header == ["phone", "name"])
        #expect(rows.isEmpty)
    }

    @Test func duplicateOrEmptyHeaderNamesAreErrors() throws {
        let duplicate = #expect(throws: CSVError.self) { try CSVReader(path: try temporaryFile("phone,name,phone\n1,2,3\n")) }
        #expect(duplicate?.description.contains("\"phone\" appears twice") == true)
        let empty = #expect(throws: CSVError.self) { try CSVReader(path: try temporaryFile("phone,,name\n")) }
        #expect(empty?.description.contains("column 2 has no name") == true)
    }

    @Test func unterminatedQuoteNamesItsLine() throws {
        let path = try temporaryFile("phone,name\n+1,Ada\n+2,\"Grace\n+3,Alan\n")
        let error = #expect(throws: CSVError.self) { try readAll(path) }
        #expect(error?.line == 3)
        #expect(error?.description.contains("never closed") == true)
    }

    @Test func missingFileIsAnError() {
        let error = #expect(throws: CSVError.self) { try CSVReader(path: "/nonexistent/recipients.csv") }
        #expect(error?.description.contains("cannot open") == true)
    }

    @Test func invalidUTF8IsPassedThroughAsBytes() throws {
        let path = try temporaryFile(Array("phone,name\n+1,".utf8) + [0xC3, 0x28] + Array("\n".utf8))
        let reader = try CSVReader(path: path)
        var bytes: [UInt8] = []
        try reader.forEachRecord { record in
            bytes = Array(record[1])
            return true
        }
        #expect(bytes == [0xC3, 0x28])
    }
}
