from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.train

from cardiotune.export.cmer.similarity import (  # noqa: E402
    CardioMusicNet,
    FusionNet,
    cardiomusic_loss,
    similarity_target,
)


def test_similarity_target_closed_form():
    s = similarity_target(
        torch.tensor([[0.0, 0.0], [0.25, 0.25], [0.3, 0.9]]),
        torch.tensor([[1.0, 1.0], [0.25, 0.25], [0.6, 0.5]]),
    )
    np.testing.assert_allclose(s.numpy(), [0.0, 1.0, 1 - 0.5 / math.sqrt(2)], atol=1e-7)
    with pytest.raises(ValueError, match="expected 2"):
        similarity_target(torch.zeros(3), torch.zeros(3))


def test_cardiomusic_loss_terms():
    out = {"sim": torch.tensor([0.5, 0.5]), "va_q": torch.zeros(2, 2), "va_m": torch.ones(2, 2)}
    s = torch.tensor([1.0, 0.0])
    assert float(cardiomusic_loss(out, s)) == pytest.approx(0.25)
    full = cardiomusic_loss(out, s, torch.zeros(2, 2), torch.zeros(2, 2), w_va=2.0)
    assert float(full) == pytest.approx(0.25 + 2.0 * (0.0 + 1.0))


def test_models_shapes_and_ranges():
    cm, fu = CardioMusicNet(7, 25), FusionNet(7, 25)
    xq, xm = torch.randn(5, 7), torch.randn(5, 25)
    o = cm(xq, xm)
    assert o["sim"].shape == (5,) and o["va_q"].shape == (5, 2)
    assert ((o["va_m"] >= 0) & (o["va_m"] <= 1)).all()
    assert fu(xq, xm)["sim"].shape == (5,)
