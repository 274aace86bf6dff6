"""Tests for m4ml.validation: one check of a random generator, book-wide."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import m4ml
from m4ml.mlp import init_mlp
from m4ml.probability import gaussian_sample
from m4ml.statistics import bootstrap_ci
from m4ml.validation import check_generator

PACKAGE = Path(m4ml.__file__).parent


def test_a_generator_is_returned_unchanged():
    rng = np.random.default_rng(3)
    assert check_generator(rng) is rng


@pytest.mark.parametrize(
    "bad", [0, None, np.random.RandomState(0), np.random.default_rng]
)
def test_anything_else_is_a_type_error_naming_the_argument(bad):
    with pytest.raises(TypeError, match=r"^key must be a numpy\.random\."):
        check_generator(bad, name="key")
    with pytest.raises(TypeError, match=type(bad).__name__):
        check_generator(bad)


@pytest.mark.parametrize(
    "call",
    [
        lambda rng: init_mlp([2, 3, 1], rng),
        lambda rng: gaussian_sample([0.0], [[1.0]], 4, rng),
        lambda rng: bootstrap_ci([1.0, 2.0, 3.0], np.mean, rng, 10),
    ],
)
def test_modules_of_every_part_reject_a_seed_alike(call):
    call(np.random.default_rng(0))  # a generator is accepted
    with pytest.raises(TypeError, match="rng must be a numpy.random"):
        call(0)


def test_no_module_checks_a_generator_its_own_way():
    own = re.compile(r"isinstance\(\s*rng\s*,\s*np\.random\.Generator")
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name != "validation.py":
            assert not own.search(path.read_text()), path.name
    assert own.search(inspect.getsource(check_generator))
