import Foundation
import HeraldCore
import HeraldFuzzing
import Testing

/// Every parser of outside input (`FuzzTarget`): first the corpus in `Fuzz/Corpus/TARGET`
/// replayed (the seeds, what libFuzzer found that reached new code, and every input that
/// once crashed Herald), then mutated copies of it for a bounded time (`HERALD_FUZZ_SECONDS`,
/// 2 s per target by default). The properties are the targets' own: nothing traps, and what
/// a parser accepts is in range. Mutations splice in the values that once broke Herald
/// (`9e18`, `1e999`, `Int64.min`). Coverage-guided fuzzing of the same targets: `Fuzz/run`.
/// Serialized: the targets share one scratch folder and journal.
@Suite(.serialized) struct HostileInputFuzzTests {
    static let seconds = Double(ProcessInfo.processInfo.environment["HERALD_FUZZ_SECONDS"] ?? "") ?? 2

    /// Values that broke a parser once, or are at the edge of a range.
    static let interesting: [String] = [
        "9e18", "1e999", "-1e999", "-9223372036854775808", "9223372036854775807", "18446744073709551616", "-0", "1e-999",
        "NaN", "Infinity", "null", "true", "[]", "{}", "\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"\u{1B}[2J\"",
        String(repeating: "[", count: 2000), String(repeating: "9", count: 400), "\"+275760-09-13T00:00:00Z\"",
        "\"0000-00-00T00:00:00Z\"", "\"2026-02-30T25:61:61Z\"", "\u{FEFF}", "\r\n", "\n", ",", ":", "\"", "\\",
    ]

    /// Mutations of `seed`: byte flips, splices of interesting values, cuts, repeats.
    struct Mutator {
        var random: SplitMix64

        mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
            var bytes = seed
            for _ in 0...Int(random.next() % 4) {
                let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count + 1))
                switch random.next() % 6 {
                case 0 where !bytes.isEmpty:
                    bytes[min(position, bytes.count - 1)] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                case 1, 2:
                    let value = HostileInputFuzzTests.interesting[Int(random.next() % UInt64(HostileInputFuzzTests.interesting.count))]
                    bytes.insert(contentsOf: Array(value.utf8), at: position)
                case 3:
                    // A number replaced by an interesting one, where there is a digit.
                    if let digit = bytes[position...].firstIndex(where: { (0x30...0x39).contains($0) }) {
                        var end = digit
                        while end < bytes.count, (0x30...0x39).contains(bytes[end]) || bytes[end] == 0x2E { end += 1 }
                        let value = HostileInputFuzzTests.interesting[Int(random.next() % 6)]
                        bytes.replaceSubrange(digit..<end, with: Array(value.utf8))
                    }
                case 4:
                    bytes = Array(bytes.prefix(position))
                default:
                    let end = min(bytes.count, position + Int(random.next() % 64))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                }
            }
            return bytes
        }
    }

    /// The corpus of `target`, as the repository holds it.
    static func corpus(_ target: FuzzTarget) throws -> [[UInt8]] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus/\(target.rawValue)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { Array(try Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func theCorpusReplays(_ target: FuzzTarget) throws {
        let inputs = try Self.corpus(target)
        #expect(!inputs.isEmpty, "Fuzz/Corpus/\(target.rawValue) holds no input")
        for input in inputs { target.run(input) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func mutatedInputs(_ target: FuzzTarget) throws {
        let inputs = try Self.corpus(target)
        var mutator = Mutator(random: SplitMix64(seed: UInt64(FuzzTarget.allCases.firstIndex(of: target) ?? 0) + 1))
        let deadline = Date().addingTimeInterval(Self.seconds)
        var count = 0
        while Date() < deadline || count < 200 {
            target.run(mutator.mutate(inputs[count % inputs.count]))
            count += 1
        }
        print("\(target.rawValue): \(count) mutated inputs")
    }
}
