/// A minimal growable ring buffer used as the queue of commands awaiting replies.
struct FIFO<Element> {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0

    /// Whether the queue holds no elements.
    var isEmpty: Bool { count == 0 }

    /// The oldest element, if any.
    var first: Element? { count == 0 ? nil : storage[head] }

    /// Appends at the tail, growing the storage when full.
    mutating func append(_ element: consuming Element) {
        if count == storage.count {
            var grown = [Element?](repeating: nil, count: Swift.max(16, storage.count * 2))
            for offset in 0..<count { grown[offset] = storage[(head + offset) % storage.count] }
            storage = grown
            head = 0
        }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    /// Removes and returns the oldest element, if any.
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    /// Removes and returns every element, oldest first.
    mutating func removeAll() -> [Element] {
        var elements: [Element] = []
        elements.reserveCapacity(count)
        while let element = popFirst() { elements.append(element) }
        return elements
    }
}
