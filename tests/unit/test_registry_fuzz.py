"""Everything a registry (or a hostile server posing as one) sends is parsed without ever
raising anything but the documented errors: challenges, error bodies, ranges, retry hints,
manifests and indexes handed to the resolution."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.errors import HullscanError
from hullscan.image.registry.auth import parse_challenges, pick_challenge
from hullscan.image.registry.errors import error_detail
from hullscan.image.registry.source import _kind
from hullscan.net import content_range, retry_after

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@given(TEXT)
@settings(max_examples=400)
def test_challenges_never_crash(header: str) -> None:
    for c in parse_challenges(header):
        assert c.scheme == c.scheme.lower()
    pick_challenge(header)


@pytest.mark.parametrize(
    ("header", "scheme", "params"),
    [
        ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
         'scope="repository:library/nginx:pull"', "bearer",
         {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
          "scope": "repository:library/nginx:pull"}),
        ('Basic realm="Registry Realm"', "basic", {"realm": "Registry Realm"}),
        ('Bearer realm="https://a/t",scope="repository:a:pull,push",error="invalid_token"',
         "bearer", {"realm": "https://a/t", "scope": "repository:a:pull,push",
                    "error": "invalid_token"}),
        ('bearer realm=https://a/t, service=x', "bearer", {"realm": "https://a/t", "service": "x"}),
        ('Bearer realm="q\\"uote"', "bearer", {"realm": 'q"uote'}),
    ],
)  # fmt: skip
def test_challenge_examples(header: str, scheme: str, params: dict[str, str]) -> None:
    c = pick_challenge(header)
    assert c is not None and c.scheme == scheme
    assert {k: c.get(k) for k in params} == params


def test_bearer_is_preferred_over_basic() -> None:
    c = pick_challenge('Basic realm="r", Bearer realm="https://t",service="s"')
    assert c is not None and c.scheme == "bearer" and c.get("service") == "s"


@given(st.binary(max_size=2000))
def test_error_bodies_never_crash(body: bytes) -> None:
    text = error_detail(body)
    assert "\n" not in text and len(text) < 200


def test_error_body_example() -> None:
    body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown",
                                   "detail": {"Tag": "x"}}]}).encode()  # fmt: skip
    assert error_detail(body) == "MANIFEST_UNKNOWN manifest unknown"


@given(st.one_of(st.none(), TEXT))
def test_header_values_never_crash(value: str | None) -> None:
    r = content_range(value)
    assert r is None or (r[0] >= 0 and (r[1] is None or r[1] >= 0))
    w = retry_after(value)
    assert w is None or w >= 0


_KEYS = st.sampled_from(
    ["mediaType", "schemaVersion", "manifests", "layers", "config", "fsLayers", "digest", "size",
     "platform"]
) | TEXT  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_KEYS, children, max_size=6),
    max_leaves=30,
)


@given(JSON, st.one_of(st.none(), TEXT))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_document_kind_never_crashes(doc: Any, media_type: str | None) -> None:
    assert _kind(media_type, doc) in ("index", "manifest", "schema1", "other")


@given(JSON)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_manifest_and_index_parsers_raise_only_documented_errors(doc: Any) -> None:
    from hullscan.image.oci import parse_index, parse_manifest

    for parse in (parse_index, parse_manifest):
        try:
            parse(doc, where="fuzz")
        except HullscanError:
            pass
