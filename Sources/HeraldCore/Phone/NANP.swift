/// The North American Numbering Plan (+1): which region an area code belongs to.
/// Area codes not listed here are United States numbers.
enum NANP {
    static let canadianAreaCodes: Set<Int> = [
        204, 226, 236, 249, 250, 257, 263, 289, 306, 343, 354, 365, 367, 368, 382, 403, 416, 418,
        428, 431, 437, 438, 450, 468, 474, 506, 514, 519, 548, 579, 581, 584, 587, 600, 604, 613,
        622, 639, 647, 672, 683, 705, 709, 742, 753, 778, 780, 782, 807, 819, 825, 867, 873, 879,
        902, 905, 942,
    ]

    static let regionByAreaCode: [Int: String] = {
        var map: [Int: String] = [
            242: "BS", 246: "BB", 264: "AI", 268: "AG", 284: "VG", 340: "VI", 345: "KY", 441: "BM",
            473: "GD", 649: "TC", 658: "JM", 876: "JM", 664: "MS", 670: "MP", 671: "GU", 684: "AS",
            721: "SX", 758: "LC", 767: "DM", 784: "VC", 787: "PR", 939: "PR", 809: "DO", 829: "DO",
            849: "DO", 868: "TT", 869: "KN",
        ]
        for code in canadianAreaCodes { map[code] = "CA" }
        return map
    }()

    /// Region by area code as a flat table (0-999), for the per-row path.
    static let regionTable: [String] = {
        var table = [String](repeating: "US", count: 1000)
        for (code, region) in regionByAreaCode { table[code] = region }
        return table
    }()

    static func region(areaCode: Int) -> String {
        regionTable[areaCode]
    }
}
