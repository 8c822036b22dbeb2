// Intentionally empty: CEpoll is header-only.
