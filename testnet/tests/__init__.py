"""End-to-end tests on real local nets (fixtures in conftest.py)."""
