import Testing
@testable import HeraldCore

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("+44 7700 900123", nil, "+447700900123", "GB"),
        ("0044 (7700) 900-123", nil, "+447700900123", "GB"),
        ("07700 900123", "GB", "+447700900123", "GB"),
        ("+1 202 555 0100", nil, "+12025550100", "US"),
        ("(416) 555-0199", "US", "+14165550199", "CA"),
        ("1-416-555-0199", "CA", "+14165550199", "CA"),
        ("+1 876 555 0100", nil, "+18765550100", "JM"),
        ("+1 787 555 0100", nil, "+17875550100", "PR"),
        ("+7 701 555 0101", nil, "+77015550101", "KZ"),
        ("+7 912 555 0101", nil, "+79125550101", "RU"),
        ("8 912 555 0101", "RU", "+79125550101", "RU"),
        ("06 12 34 56 78", "FR", "+33612345678", "FR"),
        ("02 1234 5678", "IT", "+390212345678", "IT"),
        ("+61 491 570 156", nil, "+61491570156", "AU"),
        ("+49 30 901820", nil, "+4930901820", "DE"),
        ("+353 85 555 0100", nil, "+353855550100", "IE"),
    ] as [(String, String?, String, String)])
    func normalisesToE164(input: String, region: String?, e164: String, expected: String) throws {
        let number = try PhoneNumber.parse(Array(input.utf8), defaultRegion: region)
        #expect(number.e164 == e164)
        #expect(number.region == expected)
        #expect(PhoneNumber(storedDigits: number.digits) == number)
    }

    @Test(arguments: [
        ("", nil, PhoneNumberError.empty),
        ("+44 7700 90012x", nil, .invalidCharacter),
        ("44+7700900123", nil, .misplacedPlus),
        ("07700 900123", nil, .nationalWithoutDefaultCountry),
        ("07700 900123", "ZZ", .unknownDefaultCountry("ZZ")),
        ("+999 1234 5678", nil, .unknownCallingCode),
        ("+44 7700 900123 4567 89", nil, .tooLong(18)),
        ("+44 7700 9001", nil, .wrongLength(region: "GB", found: 8, expected: 9...10)),
        ("+1 202 555 010", nil, .wrongLength(region: "NANP", found: 9, expected: 10...10)),
        ("+1 102 555 0100", nil, .invalidNANP),
    ] as [(String, String?, PhoneNumberError)])
    func rejectsBadNumbers(input: String, region: String?, error: PhoneNumberError) {
        #expect(throws: error) { try PhoneNumber.parse(Array(input.utf8), defaultRegion: region) }
    }

    @Test func errorMessagesNeverContainTheNumber() {
        do {
            _ = try PhoneNumber.parse(Array("+44 7700 9001".utf8))
        } catch {
            #expect(!error.description.contains("77009001"))
            #expect(!error.description.contains("7700 9001"))
        }
    }

    /// Issue 36, finding 3: masking shows at most half of the national digits (a 5-digit
    /// national number showed 4 of them: `+290*2345`), and at most the last four.
    @Test(arguments: [
        (12015550100 as UInt64, "US", "+1******0100"), (447700900123, "GB", "+44******0123"),
        (29012345, "SH", "+290***45"), (2901234, "SH", "+290**34"), (290123, "SH", "+290**3"),
        (2901, "SH", "+290*"), (290, "SH", "+***"),
    ] as [(UInt64, String, String)])
    func maskingShowsAtMostHalfTheNationalDigits(digits: UInt64, region: String, masked: String) {
        #expect(PhoneNumber(digits: digits, region: region).masked == masked)
    }
}
