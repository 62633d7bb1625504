import CFuzzDriver
import Foundation

// libFuzzer's driver, with its flags and corpus folders from the arguments; the target
// comes from `HERALD_FUZZ_TARGET` (Target.swift).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
