"""The CloudEvents 1.0 structured-mode envelope every event travels in (CONTRACT.md §2)."""

from __future__ import annotations

import json
import uuid
from dataclasses import InitVar, dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any

import orjson
from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from ..events import Event

CONTENT_TYPE = "application/cloudevents+json"


class InvalidEnvelope(ValueError):
    """A message that is not a valid revisit CloudEvent (a poison message)."""


@dataclass(frozen=True)
class Envelope:
    """An event in its envelope. ``body``: the JSON text it was received as, when
    :func:`parse` found it well-formed as it is (a consumer may store it instead of encoding
    the envelope again); None otherwise, and on a copy (:func:`dataclasses.replace`), whose
    values may differ from it."""

    id: str
    source: str
    type: str
    time: str
    subject: str
    tenantid: str
    region: str
    dataversion: int
    correlationid: str | None
    data: dict[str, Any]
    received: InitVar[str | None] = None
    body: str | None = field(init=False, default=None, compare=False, repr=False)

    def __post_init__(self, received: str | None) -> None:
        object.__setattr__(self, "body", received)  # frozen: set once, here

    def to_json(self) -> str:
        return json.dumps(
            {
                "specversion": "1.0",
                "id": self.id,
                "source": self.source,
                "type": self.type,
                "time": self.time,
                "subject": self.subject,
                "datacontenttype": "application/json",
                "tenantid": self.tenantid,
                "region": self.region,
                "dataversion": self.dataversion,
                "correlationid": self.correlationid,
                "data": self.data,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )


def wrap(
    event: Event,
    *,
    tenant_id: str,
    region: str,
    correlation_id: str | None = None,
    service: str | None = None,
) -> Envelope:
    """Put ``event`` in its envelope; ``service`` is the publisher (default: the event's)."""
    return Envelope(
        id=str(uuid.uuid4()),
        source=f"revisit/{service or event.source_service}",
        type=event.type_name(),
        time=datetime.now(UTC).isoformat(timespec="microseconds"),
        subject=event.subject(),
        tenantid=tenant_id,
        region=region,
        dataversion=event.version,
        correlationid=correlation_id,
        data=event.data(),
    )


class _EnvelopeSchema(Schema):
    class Meta:
        unknown = INCLUDE  # consumers ignore attributes they do not know

    specversion = fields.String(required=True, validate=validate.Equal("1.0"))
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    source = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    time = fields.String(required=True)
    subject = fields.String(load_default="")
    tenantid = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(load_default="")
    dataversion = fields.Integer(load_default=1, strict=True)
    correlationid = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


_schema = _EnvelopeSchema()


def parse(body: bytes | str) -> Envelope:
    """The envelope in ``body``; raises :class:`InvalidEnvelope` for anything else.

    Every consumed message goes through here, so the common case (a well-formed envelope)
    is checked with plain type tests; whatever that check does not accept outright is
    judged, and explained, by the marshmallow schema."""
    try:
        if isinstance(body, bytes):
            # decoded as json.loads decodes bytes (any UTF, a byte order mark dropped)
            encoding = json.detect_encoding(body)
            text = body.decode(encoding)
            doc = _loads(text, body if encoding == "utf-8" else None)
        else:
            text = body
            doc = _loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # (RecursionError: nested deeper than json reads, a poison message as any other)
        raise InvalidEnvelope(f"body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidEnvelope("body is not a JSON object")
    return _plain(doc, text) or _checked(doc)


# Opening brackets beyond which a text is json's: far below the nesting where json.loads
# gives up (RecursionError at its recursion limit, 1000 frames, less the caller's stack),
# where orjson goes on to 1024 levels.
_DEEPEST = 256
# A text's bytes marked for :func:`_loads`: every digit as 0, every { as [
_MARKS = bytes.maketrans(b"0123456789{", b"0000000000[")
_LONG_NUMBER = b"0" * 19  # the fewest digits an integer beyond 63 bits has


def _loads(text: str, utf8: bytes | None = None) -> Any:
    """``json.loads(text)``: by orjson (three times faster) from ``utf8`` (``text`` in
    UTF-8) where that reads the same; else by json, errors included. What orjson refuses
    and json accepts (NaN, Infinity, numbers beyond a float's range, lone surrogates) is
    json's; so are texts orjson would read otherwise: those with a run of 19 digits or more
    (orjson reads an integer beyond 64 bits as a float) or more opening brackets than
    :data:`_DEEPEST`."""
    if utf8 is None:
        if not isinstance(text, str):  # a bytearray, say: json's, as it was
            return json.loads(text)
        utf8 = text.encode("utf-8", "surrogatepass")  # lone surrogates: orjson refuses them
    marks = utf8.translate(_MARKS)
    if _LONG_NUMBER in marks or marks.count(b"[") > _DEEPEST:
        return json.loads(text)
    try:
        return orjson.loads(utf8)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _text(value: Any, longest: int) -> bool:
    return type(value) is str and 0 < len(value) <= longest


def _plain(doc: dict, body: str | None = None) -> Envelope | None:
    """The envelope, when ``doc`` (the JSON text ``body``) is one the schema accepts as it
    is; None: ask the schema.

    Accepts nothing the schema rejects, and gives the same values the schema would."""
    subject = doc.get("subject", "")
    region = doc.get("region", "")
    dataversion = doc.get("dataversion", 1)
    correlationid = doc.get("correlationid")
    data = doc.get("data")
    if not (
        doc.get("specversion") == "1.0"
        and type(doc["specversion"]) is str
        and _text(doc.get("id"), 100)
        and _text(doc.get("source"), 200)
        and _text(doc.get("type"), 100)
        and type(doc.get("time")) is str
        and _text(doc.get("tenantid"), 100)
        and type(subject) is str
        and type(region) is str
        and type(dataversion) is int
        and (correlationid is None or type(correlationid) is str)
        and type(data) is dict
    ):
        return None
    return Envelope(
        id=doc["id"],
        source=doc["source"],
        type=doc["type"],
        time=doc["time"],
        subject=subject,
        tenantid=doc["tenantid"],
        region=region,
        dataversion=dataversion,
        correlationid=correlationid,
        data=data,
        received=body,
    )


def _checked(doc: dict) -> Envelope:
    try:
        loaded = _schema.load(doc)
    except ValidationError as exc:
        raise InvalidEnvelope(f"not a revisit CloudEvent: {exc.messages}") from exc
    return Envelope(**{f.name: loaded[f.name] for f in dataclass_fields(Envelope) if f.init})
