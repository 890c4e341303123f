"""Plumbing shared by every revisit service: config, database, events, bus, HTTP edge."""
