"""`make e2e-ibc-go`: Verdict and an unmodified ibc-go chain (wasmd), relayed
by stock Hermes."""
