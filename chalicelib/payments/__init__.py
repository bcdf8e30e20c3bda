"""Moving money for escrows: one `Payments` interface, Stripe in AWS, a recording stand-in."""
