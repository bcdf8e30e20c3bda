"""Chalice blueprints: the HTTP and Lambda edges. They translate, and call into domain code."""
