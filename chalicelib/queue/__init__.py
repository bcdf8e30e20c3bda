"""The queue core: getting work from a request to a worker, exactly once in effect."""
