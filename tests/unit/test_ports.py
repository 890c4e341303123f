"""The tests' listening ports: a port handed out is never handed out again by the process,
bound or not yet (a stack picks its block, then its workers' metrics ports, before any of
them binds)."""

from __future__ import annotations

from tests.support import ports


def test_ports_not_yet_bound_are_never_handed_out_twice():
    handed: list[int] = []
    for _ in range(40):
        base = ports.free_block(7)
        handed += range(base, base + 7)
        handed.append(ports.free_port())
    assert len(set(handed)) == len(handed) == 40 * 8
    assert all(port in ports.listen_ports() for port in handed)
