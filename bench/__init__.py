"""``make bench``: the event pipeline, the gateway and the KPI store, measured on this machine.

Every section runs against the local RabbitMQ and PostgreSQL, in a virtual host and a
database of the run's own, and returns its figures; ``python -m bench`` prints them as a
table and writes ``bench/results/latest.json``. Figures from one run are comparable with each
other (ratios); absolute figures depend on what else the machine is doing.
"""
