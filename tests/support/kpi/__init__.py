"""The KPI service in tests, at every layer: a client of its API (``client``), a source of
truth and its events (``scenario``), the KPIs recomputed from that truth (``recompute``),
and periods checked against the store on SQLite or PostgreSQL (``periods``)."""
