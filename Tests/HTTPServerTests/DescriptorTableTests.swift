import Testing
import TestSupport
@testable import HTTPServer

/// The loop's descriptor-indexed table behaves as the dictionary it replaced: lookups, counts, removal,
/// and copies of its values that stay valid while the table changes.
@Suite(.offCooperativePool)
struct DescriptorTableTests {
    @Test func behavesAsADictionaryByDescriptor() {
        var table = DescriptorTable<String>()
        #expect(table.isEmpty && table[3] == nil && table[-1] == nil && table.values(where: { _ in true }).isEmpty)
        table[7] = "seven"
        table[2] = "two"
        table[7] = "SEVEN"  // replacing keeps the count
        table[-1] = "never"  // no descriptor is negative: ignored
        #expect(table.count == 2 && table[7] == "SEVEN" && table[2] == "two" && table[5] == nil && table[100] == nil)
        #expect(table.values == ["two", "SEVEN"] && table.entries.map(\.fd) == [2, 7])
        #expect(table.values(where: { $0.hasPrefix("S") }) == ["SEVEN"])
        #expect(table.removeValue(forKey: 7) == "SEVEN" && table.removeValue(forKey: 7) == nil)
        table[100] = nil  // removing what is absent changes nothing
        #expect(table.count == 1 && table[7] == nil && table.values == ["two"])
        let copy = table.values
        table[2] = nil
        #expect(table.isEmpty && copy == ["two"])
    }
}
