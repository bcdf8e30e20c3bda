"""The event bus: typed events on five topics, idempotent consumers, dead letters."""
