"""What every fitted model shares: the not-fitted guard and Wald intervals."""

from __future__ import annotations

import pandas as pd

from ..exceptions import NotFittedError
from ..inference import wald_table


class FittedModelMixin:
    """``_check_fitted`` and ``conf_int`` for models that store ``params_`` and ``conf_level``."""

    params_: pd.DataFrame
    conf_level: float

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(df) first."
            )

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald confidence intervals for every parameter.

        Parameters
        ----------
        alpha : float, optional
            Significance level; the intervals cover ``1 - alpha``. Defaults to
            ``1 - conf_level``.

        Returns
        -------
        pandas.DataFrame
            Columns ``ci_lower, ci_upper``, indexed like ``params_``.
        """
        self._check_fitted()
        level = self.conf_level if alpha is None else 1 - alpha
        table = wald_table(self.params_["estimate"].to_numpy(), self.params_["se"].to_numpy(),
                           self.params_.index, level)
        return table[["ci_lower", "ci_upper"]]
