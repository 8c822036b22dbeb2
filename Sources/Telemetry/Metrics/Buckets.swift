/// Bucket upper bounds shared by the histograms of DESIGN §6.
///
/// Bounds are inclusive (`value <= bound`), strictly increasing, and never include `+Inf`:
/// the registry always adds the `+Inf` bucket itself.
public enum Buckets {
    /// Latency in seconds, from 100 µs to 5 s.
    public static let latency: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ]

    /// Payload sizes in bytes, from 64 B to 4 MiB, in powers of four.
    public static let payloadBytes: [Double] = [
        64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304,
    ]
}
