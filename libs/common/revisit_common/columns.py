"""Pieces of the services' ORM models that mean the same in every service.

* :class:`TenantRow`: a tenant's row named by its id (``id``, ``tenant_id``, first in the
  table), and :func:`tenant_index`, the index listing a tenant's rows by id.
* :class:`Stamped`: ``created_at`` and ``updated_at``, last in the table.
* :func:`children`: rows that belong to one parent row, loaded and deleted with it.
* :data:`REGION`, :data:`DEPARTMENT`: the widths of a region and a department name.

Each service keeps its own declarative ``Base`` (its own metadata, its own database). The
migrations do not use these: a revision states its columns as they were when it was written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import UtcDateTime

REGION = sa.String(100)
DEPARTMENT = sa.String(64)


class TenantRow:
    """``id`` (the primary key, a UUID string) and ``tenant_id``, before the other columns."""

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, sort_order=-1)
    tenant_id: Mapped[str] = mapped_column(sa.String(36), sort_order=-1)


class Stamped:
    """When the row was created and last changed, after the other columns."""

    created_at: Mapped[datetime] = mapped_column(UtcDateTime, sort_order=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, sort_order=1)


def tenant_index(table: str) -> sa.Index:
    """``ix_<table>_tenant_id`` on (tenant_id, id): a tenant's rows in the order of their ids."""
    return sa.Index(f"ix_{table}_tenant_id", "tenant_id", "id")


def children(order_by: str, back_populates: str | None = None) -> Any:
    """A one-to-many relationship to rows owned by the parent: loaded with it (``selectin``),
    in ``order_by`` order, deleted with it and when taken out of the list."""
    return relationship(
        back_populates=back_populates,
        cascade="all, delete-orphan",
        order_by=order_by,
        lazy="selectin",
    )
