"""Event.data(): the fields as dataclasses.asdict gives them, mutable values copied."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from revisit_common import events


def test_plain_fields_as_asdict():
    event = events.PurchaseRecorded(
        purchase_id="p-1",
        customer_id="c-1",
        region="east",
        owner=None,
        grade="B",
        amount="1200.00",
        product="Pump X",
        purchased_at="2026-11-20T01:30:00+00:00",
        first_purchase=True,
    )
    data = event.data()
    assert data == dataclasses.asdict(event)
    assert list(data) == [f.name for f in dataclasses.fields(event)]
    assert data["quantity"] == 1 and data["owner"] is None and data["first_purchase"] is True


@dataclass(frozen=True)
class _Part:
    name: str
    sizes: list


def test_containers_copied_deep_as_asdict():
    settings = {"policy": {"grades": [1, {"a": 2}], "pair": (1, 2)}, "part": _Part("x", [3])}
    event = events.TenantSettingsChanged(
        tenant_id="t-1", timezone="UTC", settings=settings, settings_version=3
    )
    data = event.data()
    assert data == dataclasses.asdict(event)
    assert data["settings"]["part"] == {"name": "x", "sizes": [3]}
    assert type(data["settings"]["policy"]["pair"]) is tuple
    data["settings"]["policy"]["grades"][1]["a"] = 99
    assert settings["policy"]["grades"][1]["a"] == 2  # the event's own value is untouched


_SAMPLES = {"str": "x", "int": 2, "float": 1.5, "bool": False, "dict": {"k": [1, {"n": 2}]}}


def _sample(annotation: str):
    if annotation.endswith("| None"):
        return None
    return _SAMPLES.get(annotation, ["a", ("b", 1)])


def test_every_event_of_the_catalogue_as_asdict():
    for cls in events.CATALOGUE.values():
        values = {f.name: _sample(str(f.type)) for f in dataclasses.fields(cls)}
        event = cls(**values)
        assert event.data() == dataclasses.asdict(event), cls.__name__
