// Telemetry: implementation arrives in its own commits.
