/// Which time zone(s) a recipient is in, from their number.
///
/// North American numbers go by area code (the table below; an area code not in it,
/// or one split between zones, counts as every zone of its country). Other countries
/// go by calling code: one zone, or for countries spanning several (US, CA, BR, AU,
/// RU, MX, ID, KZ, ...) all of them, and a send window is then open only while it is
/// open in every one of them (the conservative rule).
public enum RecipientZones {
    /// The zones to respect for a number, or nil when the region has no entry.
    public static func zones(for number: PhoneNumber) -> [String]? {
        if CallingCodes.codeByRegion[number.region] == 1 {
            let national = number.digits % 10_000_000_000
            if let zone = nanpZone[Int(national / 10_000_000)] { return [zone] }
        }
        return byRegion[number.region]
    }

    static let byRegion: [String: [String]] = {
        var table: [String: [String]] = [
            "US": ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
                   "America/Anchorage", "Pacific/Honolulu"],
            "CA": ["America/St_Johns", "America/Halifax", "America/Toronto", "America/Winnipeg", "America/Regina",
                   "America/Edmonton", "America/Vancouver"],
            "BR": ["America/Noronha", "America/Sao_Paulo", "America/Manaus", "America/Rio_Branco"],
            "AU": ["Australia/Sydney", "Australia/Brisbane", "Australia/Adelaide", "Australia/Darwin", "Australia/Perth"],
            "RU": ["Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk",
                   "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka"],
            "MX": ["America/Mexico_City", "America/Cancun", "America/Chihuahua", "America/Hermosillo", "America/Tijuana"],
            "ID": ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"],
            "KZ": ["Asia/Almaty", "Asia/Aqtobe"],
            "ES": ["Europe/Madrid", "Atlantic/Canary"],
            "PT": ["Europe/Lisbon", "Atlantic/Azores"],
            "CL": ["America/Santiago", "Pacific/Easter"],
            "NZ": ["Pacific/Auckland", "Pacific/Chatham"],
            "AR": ["America/Argentina/Buenos_Aires"],
        ]
        let single: [String: String] = [
            "GB": "Europe/London", "IE": "Europe/Dublin", "FR": "Europe/Paris", "DE": "Europe/Berlin", "IT": "Europe/Rome",
            "NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "LU": "Europe/Luxembourg", "CH": "Europe/Zurich",
            "AT": "Europe/Vienna", "DK": "Europe/Copenhagen", "SE": "Europe/Stockholm", "NO": "Europe/Oslo",
            "FI": "Europe/Helsinki", "IS": "Atlantic/Reykjavik", "PL": "Europe/Warsaw", "CZ": "Europe/Prague",
            "SK": "Europe/Bratislava", "HU": "Europe/Budapest", "RO": "Europe/Bucharest", "BG": "Europe/Sofia",
            "GR": "Europe/Athens", "CY": "Asia/Nicosia", "MT": "Europe/Malta", "HR": "Europe/Zagreb", "SI": "Europe/Ljubljana",
            "RS": "Europe/Belgrade", "UA": "Europe/Kyiv", "LT": "Europe/Vilnius", "LV": "Europe/Riga", "EE": "Europe/Tallinn",
            "TR": "Europe/Istanbul", "IL": "Asia/Jerusalem", "AE": "Asia/Dubai", "SA": "Asia/Riyadh", "QA": "Asia/Qatar",
            "KW": "Asia/Kuwait", "EG": "Africa/Cairo", "ZA": "Africa/Johannesburg", "NG": "Africa/Lagos", "KE": "Africa/Nairobi",
            "MA": "Africa/Casablanca", "IN": "Asia/Kolkata", "PK": "Asia/Karachi", "BD": "Asia/Dhaka", "LK": "Asia/Colombo",
            "CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "TW": "Asia/Taipei", "JP": "Asia/Tokyo", "KR": "Asia/Seoul",
            "SG": "Asia/Singapore", "MY": "Asia/Kuala_Lumpur", "TH": "Asia/Bangkok", "VN": "Asia/Ho_Chi_Minh",
            "PH": "Asia/Manila", "CO": "America/Bogota", "PE": "America/Lima", "VE": "America/Caracas",
            "UY": "America/Montevideo", "PY": "America/Asuncion", "BO": "America/La_Paz", "CR": "America/Costa_Rica",
            "PA": "America/Panama", "GT": "America/Guatemala", "PR": "America/Puerto_Rico", "JM": "America/Jamaica",
            "DO": "America/Santo_Domingo", "BS": "America/Nassau", "BB": "America/Barbados", "BM": "Atlantic/Bermuda",
            "TT": "America/Port_of_Spain", "GU": "Pacific/Guam", "VI": "America/St_Thomas", "KY": "America/Cayman",
        ]
        for (region, zone) in single { table[region] = [zone] }
        return table
    }()

    /// North American area codes by zone (area codes split between zones are left out).
    static let nanpZone: [Int: String] = {
        let zones: [String: String] = [
            "America/New_York": """
                201 202 203 207 212 215 216 234 239 240 248 267 272 276 301 302 304 305 313 315 321 330 332 336 339 347 \
                351 352 380 386 401 404 407 410 412 413 419 434 440 443 445 448 470 475 478 484 508 513 516 517 518 \
                540 551 561 567 570 571 585 586 603 607 609 610 614 616 617 631 646 656 667 678 680 681 689 703 704 706 \
                716 717 718 724 727 732 734 740 754 757 762 765 770 772 774 781 786 802 803 804 810 813 814 828 835 838 \
                839 843 845 848 854 856 857 860 862 863 864 878 904 908 910 912 914 917 919 929 934 937 941 947 948 954 \
                959 973 978 980 984 989
                """,
            "America/Toronto": "226 249 289 343 365 382 416 418 437 438 450 468 514 519 548 579 581 613 647 683 705 742 753 819 873 905",
            "America/Chicago": """
                205 210 214 217 218 219 224 225 228 251 254 256 262 274 281 309 312 314 316 318 319 320 325 331 334 337 \
                346 361 364 402 405 409 414 417 430 432 447 464 469 479 501 504 507 512 515 531 534 539 557 563 572 573 \
                580 601 608 612 615 618 620 629 630 636 641 651 659 662 682 708 712 713 715 726 731 737 763 769 773 779 \
                785 806 815 816 817 830 832 847 870 872 901 903 913 918 920 931 936 938 940 945 952 956 972 979 985
                """,
            "America/Winnipeg": "204 431 584",
            "America/Regina": "306 474 639",
            "America/Denver": "208 303 307 385 406 435 505 575 719 720 801 915 970 983",
            "America/Edmonton": "368 403 587 780 825",
            "America/Phoenix": "480 520 602 623 928",
            "America/Los_Angeles": """
                206 209 213 253 279 310 323 341 350 360 369 408 415 424 425 442 503 509 510 530 541 559 562 564 619 626 \
                628 650 657 661 669 702 707 714 725 747 760 775 805 818 820 831 840 858 909 916 925 949 951 971
                """,
            "America/Vancouver": "236 250 257 604 672 778",
            "America/Anchorage": "907",
            "Pacific/Honolulu": "808",
            "America/Halifax": "506 782 902",
            "America/St_Johns": "709 879",
            "America/Puerto_Rico": "787 939",
            "America/Jamaica": "658 876",
            "America/Santo_Domingo": "809 829 849",
            "America/Nassau": "242",
            "America/Barbados": "246",
            "Atlantic/Bermuda": "441",
            "America/Port_of_Spain": "868",
            "Pacific/Guam": "671",
            "America/St_Thomas": "340",
            "America/Cayman": "345",
        ]
        var table: [Int: String] = [:]
        for (zone, codes) in zones {
            for code in codes.split(separator: " ") {
                precondition(table[Int(code)!] == nil, "area code \(code) listed twice")
                table[Int(code)!] = zone
            }
        }
        return table
    }()
}
