"""The gateway's Ingress asks ingress-nginx to read each request whole before the gateway's
pods (gunicorn) see it, so slow clients cannot hold the pods' request threads."""

from __future__ import annotations

from tests.support.artefacts import by_kind, objects, render

BUFFERING = "nginx.ingress.kubernetes.io/proxy-request-buffering"
BODY_SIZE = "nginx.ingress.kubernetes.io/proxy-body-size"


def ingress_annotations(values: dict) -> dict:
    (ingress,) = by_kind(objects(render(values)), "Ingress").values()
    return ingress["metadata"].get("annotations") or {}


def test_request_buffering_is_on_by_default():
    annotations = ingress_annotations({})
    assert annotations[BUFFERING] == "on"
    assert annotations[BODY_SIZE] == "2m"


def test_own_annotations_are_kept_and_win():
    annotations = ingress_annotations(
        {"ingress": {"annotations": {BODY_SIZE: "3m", "example.com/team": "crm"}}}
    )
    assert annotations == {BUFFERING: "on", BODY_SIZE: "3m", "example.com/team": "crm"}


def test_buffering_can_be_left_to_another_controller():
    annotations = ingress_annotations({"ingress": {"requestBuffering": {"enabled": False}}})
    assert BUFFERING not in annotations and BODY_SIZE not in annotations
