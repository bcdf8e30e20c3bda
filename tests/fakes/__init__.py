"""In-memory stand-ins for the application's storage, for fast and deterministic unit tests."""
