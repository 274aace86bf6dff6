"""Tests of m4ml.checks: every check passes what holds and fails what not."""

import numpy as np
import pytest

from m4ml import checks
from m4ml.checks import (
    CheckResult,
    check_close,
    check_equal,
    check_gradient,
    check_leq,
    check_within_se,
)


@pytest.fixture(autouse=True)
def _empty_ledger():
    checks.LEDGER.clear()
    yield
    checks.LEDGER.clear()


def test_close_passes_within_tolerance_and_is_recorded():
    r = check_close([1.0, 2.0], [1.0, 2.0 + 1e-13], rtol=1e-12, claim="c")
    assert isinstance(r, CheckResult)
    assert checks.LEDGER == [r]
    assert r.error == pytest.approx(1e-13, rel=1e-2)
    assert r.tolerance == pytest.approx(2e-12)
    assert r.method == "reference implementation"


def test_close_fails_with_amount_and_location():
    with pytest.raises(AssertionError, match=r"index \(1, 0\)") as info:
        check_close(np.eye(2), [[1.0, 0.0], [1e-3, 1.0]], atol=1e-6, claim="I")
    assert "1.0e-03 > tolerance 1.0e-06" in str(info.value)
    assert checks.LEDGER == []


@pytest.mark.parametrize(
    "actual, expected",
    [([1.0, 2.0], [1.0, 2.0, 3.0]), ([np.nan], [1.0]), ([1.0], [np.nan])],
)
def test_close_rejects_shape_mismatch_and_nan(actual, expected):
    with pytest.raises(AssertionError, match="Check failed"):
        check_close(actual, expected, claim="c")


def test_close_reports_the_element_nearest_failure():
    # relative tolerance: element 0 has the larger error but more room
    r = check_close([100.05, 1.0009], [100.0, 1.0], rtol=1e-3, claim="c")
    assert r.error == pytest.approx(9e-4)
    assert r.tolerance == pytest.approx(1e-3)


def test_close_exact_when_tolerances_are_zero():
    check_close([0.5, np.inf], [0.5, np.inf], rtol=0, claim="equal")
    with pytest.raises(AssertionError):
        check_close(0.5, np.nextafter(0.5, 1), rtol=0, claim="next float")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"claim": ""}, "needs a claim"),
        ({"claim": "c", "method": "vibes"}, "unknown method"),
        ({"claim": "c", "rtol": -1.0}, "non-negative"),
    ],
)
def test_close_validates_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_close(1.0, 1.0, **kwargs)


def test_equal_counts_differing_entries():
    assert check_equal(np.arange(3), [0, 1, 2], claim="c").error == 0.0
    with pytest.raises(AssertionError, match="2 of 3 entries differ"):
        check_equal(np.arange(3), [0, 5, 6], claim="c")
    with pytest.raises(AssertionError, match="shape"):
        check_equal([1, 2], [[1, 2]], claim="c")


def test_leq_records_the_worst_gap():
    r = check_leq([1.0, 2.0], [3.0, 2.5], claim="c")
    assert r.error == pytest.approx(-0.5)
    check_leq(1.0 + 1e-12, 1.0, atol=1e-9, claim="within atol")
    with pytest.raises(AssertionError, match="smaller - larger"):
        check_leq([0.0, 2.0], 1.0, claim="c")


def test_within_se_uses_the_stated_number_of_standard_errors():
    r = check_within_se(0.529, 0.5, 0.01, n_se=3, claim="c")
    assert r.tolerance == pytest.approx(0.03)
    with pytest.raises(AssertionError, match="3 standard errors"):
        check_within_se(0.54, 0.5, 0.01, n_se=3, claim="c")
    with pytest.raises(ValueError, match="positive"):
        check_within_se(0.5, 0.5, 0.0, claim="c")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_accepts_right_and_rejects_wrong_gradients(seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)

    def f(v):
        return v @ A @ v

    right = (A + A.T) @ x
    r = check_gradient(f, right, x, claim="grad of x^T A x")
    assert r.method == "finite differences"
    with pytest.raises(AssertionError):
        check_gradient(f, lambda v: 2 * A @ v, x, claim="a wrong gradient")


def test_summary_and_payload_agree():
    r = check_close(1.0, 1.0, claim="one is one", ref="{eq}`eq-x`")
    assert r.summary().startswith("Check passed: one is one")
    assert r.to_json() == {
        "claim": "one is one",
        "method": "reference implementation",
        "error": 0.0,
        "tolerance": 1e-10,
        "ref": "{eq}`eq-x`",
    }
