"""API key generation and hashing."""

from __future__ import annotations

import hashlib
import re

from hypothesis import given
from hypothesis import strategies as st

from gateway_service import domain


def test_key_format_and_entropy():
    key = domain.generate_key()
    assert key.startswith("rvk_")
    body = key[len("rvk_") :]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body)  # 32 bytes in URL-safe base64
    assert len(body) * 6 >= 256


def test_keys_are_unique():
    keys = {domain.generate_key() for _ in range(2000)}
    assert len(keys) == 2000


def test_hash_is_sha256_hex():
    key = "rvk_example"
    assert domain.hash_key(key) == hashlib.sha256(b"rvk_example").hexdigest()
    assert len(domain.hash_key(key)) == 64
    assert domain.hash_key(key) != key


def test_key_matches_only_its_own_hash():
    key, other = domain.generate_key(), domain.generate_key()
    stored = domain.hash_key(key)
    assert domain.key_matches(key, stored)
    assert not domain.key_matches(other, stored)
    assert not domain.key_matches(key[:-1], stored)


def test_display_prefix_is_short():
    key = domain.generate_key()
    prefix = domain.display_prefix(key)
    assert key.startswith(prefix)
    assert len(prefix) == 12


def test_token_matches():
    assert domain.token_matches("s3cret", "s3cret")
    assert not domain.token_matches("s3cret", "s3creT")
    assert not domain.token_matches("", "")
    assert not domain.token_matches(None, None)
    assert not domain.token_matches("x", None)
    assert not domain.token_matches(None, "x")
    assert domain.token_matches("中文", "中文")


@given(st.text(min_size=1, max_size=300))
def test_any_text_hashes_to_a_stable_digest(text):
    assert domain.hash_key(text) == domain.hash_key(text)
    assert re.fullmatch(r"[0-9a-f]{64}", domain.hash_key(text))
    assert domain.key_matches(text, domain.hash_key(text))
