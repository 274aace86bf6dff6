"""Tests of m4ml.matrix_calculus: the registry of the book's identities."""

import dataclasses
import re

import numpy as np
import pytest

from booktools import ROOT
from m4ml.matrix_calculus import (
    IDENTITIES,
    KINDS,
    Identity,
    by_key,
    evaluate,
    finite_difference_errors,
    numerical_derivative,
)

KEYS = [ident.key for ident in IDENTITIES]
APPENDIX = ROOT / "book" / "appendices" / "matrix_calculus.md"


def test_keys_are_unique_and_kinds_known():
    assert len(KEYS) == len(set(KEYS))
    assert {ident.kind for ident in IDENTITIES} == set(KINDS)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("key", KEYS)
def test_every_identity_holds(key, seed):
    ident = by_key(key)
    claimed, numeric = evaluate(ident, np.random.default_rng(seed))
    np.testing.assert_allclose(
        claimed, numeric, rtol=ident.rtol, atol=ident.atol
    )


@pytest.mark.parametrize("key", KEYS)
def test_a_wrong_claim_fails(key):
    """Doubling the claimed derivative must break every check."""
    ident = by_key(key)
    wrong = dataclasses.replace(
        ident, claimed=lambda *a, **p: 2.0 * ident.claimed(*a, **p)
    )
    claimed, numeric = evaluate(wrong, np.random.default_rng(5))
    assert not np.allclose(claimed, numeric, rtol=ident.rtol, atol=ident.atol)


@pytest.mark.parametrize("key", KEYS)
def test_shapes_follow_the_layout_convention(key):
    ident = by_key(key)
    x, params = ident.sample(np.random.default_rng(0))
    claimed = np.asarray(ident.claimed(x, **params))
    out_shape = np.shape(ident.f(x, **params))
    if ident.kind in ("scalar-by-vector", "scalar-by-matrix"):
        assert out_shape == ()
        assert claimed.shape == x.shape
        assert x.ndim == (1 if ident.kind == "scalar-by-vector" else 2)
    elif ident.kind == "jacobian":
        assert claimed.shape == out_shape + x.shape
    else:
        assert claimed.shape == (x.size, x.size)
        np.testing.assert_allclose(claimed, claimed.T, atol=1e-12)


@pytest.mark.parametrize("key", ["logdet", "trace-inverse", "inverse"])
def test_matrix_identities_against_closed_forms(key):
    """Directional derivatives against exact first-order expansions."""
    rng = np.random.default_rng(11)
    ident = by_key(key)
    X, params = ident.sample(rng)
    E = rng.standard_normal(X.shape)
    t = 1e-7
    plus = np.asarray(ident.f(X + t * E, **params))
    minus = np.asarray(ident.f(X - t * E, **params))
    directional = (plus - minus) / (2 * t)
    claimed = np.asarray(ident.claimed(X, **params))
    if ident.kind == "jacobian":
        predicted = np.tensordot(claimed, E, axes=E.ndim)
    else:
        predicted = np.sum(claimed * E)
    np.testing.assert_allclose(directional, predicted, rtol=1e-5, atol=1e-7)


def test_numerical_derivative_agrees_with_numpy_and_scipy():
    from scipy.special import logsumexp as sp_lse

    z = np.random.default_rng(3).standard_normal(6)
    ident = by_key("logsumexp")
    assert np.isclose(ident.f(z), sp_lse(z), rtol=1e-14)
    g = numerical_derivative(ident, z)
    np.testing.assert_allclose(g, np.exp(z - sp_lse(z)), rtol=1e-7)


def test_finite_difference_errors_form_a_v():
    steps = np.logspace(-1, -12, 12)
    err = finite_difference_errors(
        by_key("logdet"), steps, np.random.default_rng(0)
    )
    best = int(np.argmin(err))
    assert 0 < best < len(steps) - 1
    assert err[0] > 100 * err[best] and err[-1] > 100 * err[best]


def test_errors_and_bad_input():
    with pytest.raises(ValueError, match="no identity"):
        by_key("nonsense")
    with pytest.raises(ValueError, match="unknown kind"):
        Identity("k", "tensor", "", "", abs, abs, abs)
    with pytest.raises(TypeError, match="Generator"):
        evaluate(by_key("linear"), 0)
    with pytest.raises(ValueError, match="positive"):
        finite_difference_errors(
            by_key("linear"), [1e-3, 0.0], np.random.default_rng(0)
        )
    bad = dataclasses.replace(
        by_key("bilinear"), claimed=lambda X, a, b: np.outer(b, a)
    )
    with pytest.raises(ValueError, match="layout convention"):
        evaluate(bad, np.random.default_rng(0))


def test_the_appendix_lists_every_identity():
    """Each key appears in a table of the appendix, and no other."""
    if not APPENDIX.is_file():  # pragma: no cover
        pytest.skip("the appendix is not written yet")
    text = APPENDIX.read_text()
    rows = re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.M)
    assert sorted(rows) == sorted(KEYS)
