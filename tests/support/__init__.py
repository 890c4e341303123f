"""Test-only helpers shared by the test suites (never imported by services)."""
