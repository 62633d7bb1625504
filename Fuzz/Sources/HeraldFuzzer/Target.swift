import Foundation
import HeraldFuzzing

/// The target this process fuzzes, named by `HERALD_FUZZ_TARGET` (`Fuzz/run` sets it).
let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["HERALD_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("HERALD_FUZZ_TARGET must be one of: \(names) (not \"\(name)\")\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer's entry point: one input through the target's parser.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
