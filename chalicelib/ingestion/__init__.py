"""Instagram (Meta) messaging webhooks: verify, queue through QStash, store each event once."""
