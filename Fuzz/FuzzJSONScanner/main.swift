// libFuzzer entry for the JSON scanner (Sources/App/JSON/JSONScanner.swift). Build and run with scripts/fuzz.
// Oracle: no trap, and the scanner's promises checked by JSONScannerFuzzing.check.
import App

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONScanner(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    JSONScannerFuzzing.check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
