"""Billing: invoice and reminder emails, queued through QStash or sent inline, sent exactly once."""
