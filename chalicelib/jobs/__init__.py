"""The Redis job queue: enqueue side-effect jobs, claim them in batches, retry, dead-letter.

Import what you need from the modules (`queue`, `registry`, `processor`); this package imports
nothing itself, so that touching it stays cheap on a cold start.
"""
