"""Escrows: money held between a buyer and a seller, released, refunded or disputed, with the
slow side effects of each change (emails, payment capture or refund, partner webhooks, audit
log) run as jobs on the Redis job queue."""
