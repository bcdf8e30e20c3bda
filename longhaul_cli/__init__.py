"""Longhaul's terminal client: start scenario generations, watch them, read their results.

It speaks to the app's HTTP API only (`--url`, or `LONGHAUL_URL`), so it works the same against
the local stack and a deployed stage. Run it as `longhaul` or `python -m longhaul_cli`.
"""
