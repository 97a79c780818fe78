"""Preference models fitted to comparison tables."""

from __future__ import annotations

from ._bootstrap import BootstrapResult
from .bradley_terry import BradleyTerry
from .plackett_luce import PlackettLuce
from .rater_effects import RaterBradleyTerry
from .thurstone import Thurstone

__all__ = ["BootstrapResult", "BradleyTerry", "PlackettLuce", "RaterBradleyTerry", "Thurstone"]
