"""RBF support-vector regression with nested hyper-parameter choice (scikit-learn).

Per output (valence, arousal) a ``StandardScaler -> SVR(rbf)`` pipeline; C and gamma are
chosen by an inner group k-fold on the *training* part only (grouped like the outer split),
then refit on the whole training part. With the outer CV this is nested CV: no held-out
excerpt influences its own hyper-parameters.
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np

from cardiotune._imports import import_optional

__all__ = ["NestedSVR"]

DEFAULT_GRID = {"C": [0.3, 1.0, 3.0, 10.0], "gamma": ["scale", 0.01]}


class NestedSVR:
    def __init__(self, grid: Dict = None, inner_folds: int = 5):
        self.grid = dict(grid or DEFAULT_GRID)
        self.inner_folds = inner_folds
        self.models: List = []
        self.chosen: List[Dict] = []

    def fit(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> NestedSVR:
        import_optional("sklearn", "train", "the SVR music baseline")
        from sklearn.model_selection import GridSearchCV, GroupKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVR

        k = min(self.inner_folds, len(set(np.asarray(groups).tolist())))
        grid = {f"svr__{name}": values for name, values in self.grid.items()}
        self.models, self.chosen = [], []
        for d in range(y.shape[1]):
            search = GridSearchCV(
                make_pipeline(StandardScaler(), SVR(kernel="rbf")),
                grid,
                cv=GroupKFold(k),
                scoring="neg_mean_squared_error",
            )
            search.fit(x, y[:, d], groups=groups)
            self.models.append(search.best_estimator_)
            self.chosen.append({k.split("__")[1]: v for k, v in search.best_params_.items()})
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.stack([m.predict(x) for m in self.models], axis=1)
