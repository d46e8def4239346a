"""Stock Hermes between local Verdict nets (`make e2e-hermes`, `make bench-ibc`)."""

from .hermes import HERMES, JMT_SPEC, Hermes, chain_entry

__all__ = ["HERMES", "JMT_SPEC", "Hermes", "chain_entry"]
