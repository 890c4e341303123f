"""Hypothesis: small JSON-like trees (lists and objects of up to four members, twelve
leaves at most) over the leaves a test gives."""

from __future__ import annotations

from hypothesis import strategies as st


def json_trees(leaves: st.SearchStrategy) -> st.SearchStrategy:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=3), children, max_size=4)
        ),
        max_leaves=12,
    )
