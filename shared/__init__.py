"""What the three Dealgate services truly share: envelope, bus, outbox/inbox, config, auth, errors, logging."""
