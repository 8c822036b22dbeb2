// TestSupport: shared test harness (redis-server launcher, raw HTTP client). Arrives in its own commits.
