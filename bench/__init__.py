"""Benchmarks of the local development stack."""
