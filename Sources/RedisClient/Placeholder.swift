// RedisClient: implementation arrives in its own commits.
