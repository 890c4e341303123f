"""What every section gets: the servers (a vhost and a database of this run's own), a
folder for logs, and the figures it reports (:class:`Figure`)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import sqlalchemy as sa

from tests.support.servers import own_vhost

AMQP_URL = os.environ.get("REVISIT_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
POSTGRES_URL = os.environ.get(
    "REVISIT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
RESULTS = Path(__file__).parent / "results"


@dataclass
class Figure:
    """One measured figure. ``target``: the issue's bound in words ("≥ 2000"), with ``met``
    whether this run reached it (None when the figure has no target)."""

    section: str
    name: str
    value: float | None
    unit: str
    target: str | None = None
    met: bool | None = None
    note: str = ""

    def as_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class Bench:
    quick: bool
    amqp_url: str
    postgres_url: str
    workdir: Path
    figures: list[Figure] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # section -> raw data for latest.json

    def add(self, section: str, name: str, value, unit: str, **kw) -> Figure:
        figure = Figure(
            section, name, None if value is None else round(float(value), 3), unit, **kw
        )
        self.figures.append(figure)
        return figure

    def at_least(self, section: str, name: str, value, bound: float, unit: str, **kw) -> Figure:
        return self.add(
            section, name, value, unit, target=f">= {bound:g}", met=value >= bound, **kw
        )

    def at_most(self, section: str, name: str, value, bound: float, unit: str, **kw) -> Figure:
        return self.add(
            section, name, value, unit, target=f"<= {bound:g}", met=value <= bound, **kw
        )

    def figure(self, section: str, name: str) -> Figure | None:
        return next((f for f in self.figures if f.section == section and f.name == name), None)

    @property
    def pika_url(self) -> str:
        """The broker URL as pika spells it ('%2F' for the default vhost)."""
        return self.amqp_url[:-2] + "/%2F" if self.amqp_url.endswith("//") else self.amqp_url


def vhost(url: str):
    """A RabbitMQ virtual host of this run's own (deleted afterwards), or ``url`` itself
    when rabbitmqctl cannot make one."""
    return own_vhost(url, "revisit-bench")


@contextlib.contextmanager
def database(url: str) -> Iterator[str]:
    """A new PostgreSQL database on ``url``'s server, dropped afterwards."""
    name = f"revisit_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield urlparse(url)._replace(path=f"/{name}").geturl()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
