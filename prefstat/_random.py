"""Randomness enters through ``random_state`` only: one place turns it into a Generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from .exceptions import InvalidParameterError


def as_generator(random_state: Any, where: str) -> np.random.Generator:
    """Return ``numpy.random.default_rng(random_state)``, or a typed error naming ``where``.

    Global random state is never read or changed.
    """
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(
            f"{where}: random_state must be None, an int or a numpy.random.Generator, got "
            f"{random_state!r}."
        ) from err
