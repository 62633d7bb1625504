import Foundation
import HeraldCore
import Testing

#if canImport(Glibc)
import Glibc

@Suite struct ProcessMemoryTests {
    /// Resident anonymous memory of this process, in KiB.
    static func residentAnonymous() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("RssAnon:") {
            return line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        }
        return 0
    }

    /// Memory freed below a block still in use stays with the allocator (glibc trims only
    /// the top of a heap); `returnFreedMemory` gives its pages back.
    @Test func freedMemoryGoesBackToTheSystem() {
        // 48 MiB in 64 KiB blocks (under the threshold from which blocks are mapped on
        // their own), each written so its pages are resident, each followed by a small
        // block that stays: the freed blocks are holes the allocator cannot trim.
        var pins: [UnsafeMutableRawPointer] = []
        pins.reserveCapacity(768)
        let blocks = (0..<768).map { _ -> UnsafeMutableRawPointer in
            let block = malloc(64 << 10)!
            memset(block, 1, 64 << 10)
            pins.append(malloc(1000)!)
            return block
        }
        for block in blocks { free(block) }
        let before = Self.residentAnonymous()
        ProcessMemory.returnFreedMemory()
        let after = Self.residentAnonymous()
        for pin in pins { free(pin) }
        #expect(before - after > 24 << 10, "resident anonymous memory \(before) KiB before, \(after) KiB after")
    }
}
#endif
