/// An ordered list of header fields whose names compare case-insensitively.
///
/// Field order and repeated fields are kept as received. Values are never split on commas,
/// so `values(_:)` returns each field line's value as one string.
public struct HTTPHeaders: Sendable, Sequence {
    /// A field with its name's ``signature(_:)``, so that a lookup compares whole names only where the
    /// signatures agree (measured: a `PUT` looked names up 30 times, 1,700 instructions of comparisons).
    fileprivate struct Field: Sendable {
        var name: String
        var value: String
        let signature: UInt32

        init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
            signature = HTTPHeaders.signature(name)
        }
    }

    /// The fields in order, with names as they were given.
    private var fields: [Field]

    /// Creates an empty header list.
    public init() {
        fields = []
    }

    /// Creates an empty header list with room for `capacity` fields, so that adding them does not regrow it.
    /// - Parameter capacity: How many fields to make room for.
    public init(capacity: Int) {
        fields = []
        fields.reserveCapacity(capacity)
    }

    /// Creates a header list from `(name, value)` pairs, keeping their order.
    /// - Parameter pairs: The fields to start with.
    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field($0.0, $0.1) }
    }

    /// The length and the lowercased first byte of a name: equal for names that are equal ignoring case.
    private static func signature(_ name: String) -> UInt32 {
        let utf8 = name.utf8
        return UInt32(truncatingIfNeeded: utf8.count) << 8 | UInt32((utf8.first ?? 0) | 0x20)
    }

    /// Whether the field at `index` is called `name`, whose signature is `signature`.
    @inline(__always)
    private func field(_ index: Int, isCalled name: String, _ signature: UInt32) -> Bool {
        fields[index].signature == signature && Self.namesEqual(fields[index].name, name)
    }

    /// The value of the first field called `name`, or nil if there is none.
    public subscript(name: String) -> String? {
        // By index: the name is read in place, where `first(where:)` copied (and retained) every field.
        let signature = Self.signature(name)
        for index in fields.indices where field(index, isCalled: name, signature) { return fields[index].value }
        return nil
    }

    /// Every value of the fields called `name`, in order. Values are not split on commas.
    /// - Parameter name: The field name, compared case-insensitively.
    public func values(_ name: String) -> [String] {
        let signature = Self.signature(name)
        var values: [String] = []
        for index in fields.indices where field(index, isCalled: name, signature) { values.append(fields[index].value) }
        return values
    }

    /// How many fields are called `name`.
    /// - Parameter name: The field name, compared case-insensitively.
    public func count(of name: String) -> Int {
        let signature = Self.signature(name)
        var count = 0
        for index in fields.indices where field(index, isCalled: name, signature) { count += 1 }
        return count
    }

    /// Whether at least one field is called `name`.
    /// - Parameter name: The field name, compared case-insensitively.
    public func contains(_ name: String) -> Bool {
        let signature = Self.signature(name)
        for index in fields.indices where field(index, isCalled: name, signature) { return true }
        return false
    }

    /// Appends a field, keeping any existing fields with the same name.
    /// - Parameters:
    ///   - name: The field name.
    ///   - value: The field value.
    public mutating func add(_ name: String, _ value: String) {
        fields.append(Field(name, value))
    }

    /// Replaces every field called `name` with one field holding `value`.
    ///
    /// The new field takes the place of the first old one, or goes at the end if there was none.
    /// - Parameters:
    ///   - name: The field name, compared case-insensitively.
    ///   - value: The new value.
    public mutating func set(_ name: String, _ value: String) {
        let signature = Self.signature(name)
        if let first = fields.indices.first(where: { field($0, isCalled: name, signature) }) {
            fields[first] = Field(name, value)
            var index = fields.count - 1
            while index > first {
                if field(index, isCalled: name, signature) { fields.remove(at: index) }
                index -= 1
            }
        } else {
            fields.append(Field(name, value))
        }
    }

    /// Removes every field called `name`.
    /// - Parameter name: The field name, compared case-insensitively.
    public mutating func remove(_ name: String) {
        let signature = Self.signature(name)
        fields.removeAll { $0.signature == signature && Self.namesEqual($0.name, name) }
    }

    /// The number of fields.
    public var count: Int { fields.count }

    /// Whether there are no fields.
    public var isEmpty: Bool { fields.isEmpty }

    /// Iterates the fields in order.
    public func makeIterator() -> Iterator {
        Iterator(base: fields.makeIterator())
    }

    /// The fields in order, as `(name, value)` pairs.
    public struct Iterator: IteratorProtocol {
        fileprivate var base: IndexingIterator<[Field]>

        public mutating func next() -> (name: String, value: String)? {
            base.next().map { (name: $0.name, value: $0.value) }
        }
    }

    /// Whether the comma-separated tokens of the fields called `name` include `token`, ignoring case.
    ///
    /// Useful for list-valued fields such as `Connection`.
    /// - Parameters:
    ///   - name: The field name, compared case-insensitively.
    ///   - token: The token to look for, compared case-insensitively.
    public func containsToken(_ token: String, in name: String) -> Bool {
        let signature = Self.signature(name)
        for index in fields.indices where field(index, isCalled: name, signature) {
            if Self.list(fields[index].value, containsToken: token) { return true }
        }
        return false
    }

    /// Whether the comma-separated list `value` includes `token`, ignoring case and the spaces around items.
    static func list(_ value: String, containsToken token: String) -> Bool {
        for part in value.split(separator: ",") {
            let trimmed = part.trimmingASCIIWhitespace()
            if namesEqual(String(trimmed), token) { return true }
        }
        return false
    }

    /// ASCII case-insensitive comparison, which is what field names need ([RFC 9110 §5.1](https://www.rfc-editor.org/rfc/rfc9110#section-5.1)).
    static func namesEqual(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        var lhs = lhs, rhs = rhs
        return lhs.withUTF8 { a in
            rhs.withUTF8 { b in
                for index in 0..<a.count where a[index] != b[index] {
                    let x = a[index], y = b[index]
                    let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
                    let ly = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
                    if lx != ly { return false }
                }
                return true
            }
        }
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    func trimmingASCIIWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
