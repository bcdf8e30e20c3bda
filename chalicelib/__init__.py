"""Longhaul's application code. Nothing here imports Chalice except `chalicelib.handlers`."""
