/// A client that can follow a command with [`WAIT`](https://redis.io/docs/latest/commands/wait/) on the
/// same connection, so that `WAIT` counts the replicas that have that command (`--redis-wait-replicas`).
public protocol ReplicaAcknowledgingClient: RedisClient {
    /// Sends `arguments`, then `WAIT replicas timeoutMilliseconds` on the same connection.
    /// - Returns: The command's reply, and how many replicas acknowledged it (0 when `WAIT` failed).
    /// - Throws: As ``RedisClient/send(_:)``, for the command.
    func send(_ arguments: [[UInt8]], thenWaitFor replicas: Int, timeoutMilliseconds: Int) async throws -> (reply: RESPValue, acknowledged: Int)
}

extension RedisConnectionPool: ReplicaAcknowledgingClient {}
