"""Argument checks that every module of :mod:`m4ml` shares.

The book draws random numbers only from a :class:`numpy.random.Generator`
passed in by the caller (``rng = np.random.default_rng(seed)``), never from
NumPy's legacy global state, so that every figure and every check is
reproducible. Passing anything else, such as a seed or ``None``, is a
``TypeError`` with the same message in every module.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_generator"]


def check_generator(rng, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` if it is a NumPy ``Generator``; raise otherwise.

    Parameters
    ----------
    rng
        The value to check.
    name
        The argument's name, for the error message.

    Returns
    -------
    numpy.random.Generator
        ``rng`` itself.

    Raises
    ------
    TypeError
        If ``rng`` is not a :class:`numpy.random.Generator` (a seed, a
        ``RandomState`` or ``None``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> check_generator(rng) is rng
    True
    >>> check_generator(0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: rng must be a numpy.random.Generator, ...; got int
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator, such as "
            f"np.random.default_rng(seed); got {type(rng).__name__}"
        )
    return rng
