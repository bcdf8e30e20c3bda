"""Outgoing email: one message model and the senders behind one interface."""
