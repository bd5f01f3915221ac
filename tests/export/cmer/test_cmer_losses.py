from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from cardiotune.export.cmer.losses import (  # noqa: E402
    canonical_correlations,
    cca_loss,
    cca_projection,
    composite_loss,
    kl_diag,
    kl_matrix,
    kl_ranking_loss,
    retrieval_score,
)

pytestmark = pytest.mark.train


def _numpy_canonical_correlations(x, y):
    """Textbook CCA: singular values of Q_x^T Q_y (QR of the centred data)."""
    qx, _ = np.linalg.qr(x - x.mean(0))
    qy, _ = np.linalg.qr(y - y.mean(0))
    return np.linalg.svd(qx.T @ qy, compute_uv=False)


def test_canonical_correlations_match_numpy_qr_svd():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 2))
    x = np.c_[z, rng.normal(size=(200, 2))] @ rng.normal(size=(4, 4))
    y = np.c_[z[:, :1] + 0.5 * rng.normal(size=(200, 1)), rng.normal(size=(200, 2))]
    ref = _numpy_canonical_correlations(x, y)
    got = canonical_correlations(torch.tensor(x), torch.tensor(y), reg=1e-10).numpy()
    np.testing.assert_allclose(got[: len(ref)], ref, atol=1e-6)
    assert ref[0] > 0.8  # the shared component is found
    loss = cca_loss(torch.tensor(x), torch.tensor(y), reg=1e-10)
    assert float(loss) == pytest.approx(-ref.sum(), abs=1e-5)


def test_canonical_correlations_match_scipy_sqrtm_definition():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    y[:, 0] += x[:, 1]
    xc, yc = x - x.mean(0), y - y.mean(0)
    r = 1e-3
    s11 = xc.T @ xc / 49 + r * np.eye(3)
    s22 = yc.T @ yc / 49 + r * np.eye(3)
    s12 = xc.T @ yc / 49
    t = np.linalg.inv(scipy_linalg.sqrtm(s11)) @ s12 @ np.linalg.inv(scipy_linalg.sqrtm(s22))
    ref = np.linalg.svd(np.real(t), compute_uv=False)
    got = canonical_correlations(torch.tensor(x), torch.tensor(y), reg=r).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_cca_loss_has_gradients_and_whitening_makes_it_scale_invariant():
    rng = np.random.default_rng(2)
    x = torch.tensor(rng.normal(size=(64, 4)), requires_grad=True)
    y = torch.tensor(rng.normal(size=(64, 4)))
    loss = cca_loss(x, y, reg=1e-8)
    loss.backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    scaled = cca_loss(x.detach() * 100.0, y * 0.01, reg=1e-12)
    assert float(scaled) == pytest.approx(loss.item(), abs=1e-4)


def test_kl_diag_matches_closed_form_and_torch_distributions():
    rng = np.random.default_rng(3)
    mu1, mu2 = torch.tensor(rng.normal(size=5)), torch.tensor(rng.normal(size=5))
    v1, v2 = torch.tensor(rng.uniform(0.2, 2, 5)), torch.tensor(rng.uniform(0.2, 2, 5))
    got = float(kl_diag(mu1, v1, mu2, v2))
    ref = float(
        torch.distributions.kl_divergence(
            torch.distributions.Normal(mu1, v1.sqrt()), torch.distributions.Normal(mu2, v2.sqrt())
        ).sum()
    )
    assert got == pytest.approx(ref, rel=1e-10)
    # 1-D by hand: KL(N(0,1) || N(1,4)) = 0.5 * (1/4 - 1 + ln 4 + 1/4)
    one = float(kl_diag(torch.zeros(1), torch.ones(1), torch.ones(1), torch.full((1,), 4.0)))
    assert one == pytest.approx(0.5 * (0.25 - 1 + math.log(4) + 0.25))
    assert float(kl_diag(mu1, v1, mu1, v1)) == pytest.approx(0.0, abs=1e-12)


def test_kl_matrix_entries():
    rng = np.random.default_rng(4)
    ma, mb = torch.tensor(rng.normal(size=(3, 2))), torch.tensor(rng.normal(size=(4, 2)))
    va, vb = (
        torch.tensor(rng.uniform(0.5, 1.5, (3, 2))),
        torch.tensor(rng.uniform(0.5, 1.5, (4, 2))),
    )
    k = kl_matrix(ma, va, mb, vb)
    assert k.shape == (3, 4)
    assert float(k[2, 1]) == pytest.approx(float(kl_diag(ma[2], va[2], mb[1], vb[1])))


def _two_pairs(gap):
    """Unit-variance 1-D Gaussians: positives at distance 0, the negative at KL = gap."""
    d = math.sqrt(2 * gap)  # KL(N(0,1)||N(d,1)) = d^2 / 2
    mu_m = torch.tensor([[0.0], [d]], dtype=torch.float64)
    mu_e = torch.tensor([[0.0], [d]], dtype=torch.float64)
    one = torch.ones(2, 1, dtype=torch.float64)
    return mu_m, one, mu_e, one


def test_hinge_is_zero_at_and_beyond_the_margin_and_linear_inside():
    alpha = 1.0
    for gap in (1.0, 1.5):
        assert float(kl_ranking_loss(*_two_pairs(gap), alpha=alpha)) == pytest.approx(0.0, abs=1e-9)
    # inside the margin: 2 pairs x 2 anchors, each hinge = alpha + 0 - gap
    gap = 0.4
    assert float(kl_ranking_loss(*_two_pairs(gap), alpha=alpha)) == pytest.approx(4 * (alpha - gap))


def test_printed_sign_variant_only_fires_when_negative_is_closer_than_positive_minus_alpha():
    # the printed Eq. 6 is zero whenever D_pos - alpha - D_neg <= 0, e.g. at init (all equal)
    mu = torch.zeros(3, 2)
    v = torch.ones(3, 2)
    assert float(kl_ranking_loss(mu, v, mu, v, alpha=1.0, printed_sign=True)) == 0.0
    assert float(kl_ranking_loss(mu, v, mu, v, alpha=1.0)) == pytest.approx(2 * 3 * 2 * 1.0)


def test_ranking_loss_uses_all_negatives_in_both_directions():
    mu_m = torch.zeros(4, 1)
    mu_e = torch.zeros(4, 1)
    v = torch.ones(4, 1)
    # everything identical: each of 4 anchors x 3 negatives x 2 directions contributes alpha
    assert float(kl_ranking_loss(mu_m, v, mu_e, v, alpha=0.5)) == pytest.approx(4 * 3 * 2 * 0.5)


def test_composite_is_the_lambda_mix():
    rng = np.random.default_rng(5)
    em, ee = torch.tensor(rng.normal(size=(16, 3))), torch.tensor(rng.normal(size=(16, 3)))
    mm, me = torch.tensor(rng.normal(size=(16, 3))), torch.tensor(rng.normal(size=(16, 3)))
    vm, ve = torch.tensor(rng.uniform(0.5, 2, (16, 3))), torch.tensor(rng.uniform(0.5, 2, (16, 3)))
    cca = float(cca_loss(em, ee))
    kl = float(kl_ranking_loss(mm, vm, me, ve, 1.0))
    for lam in (0.0, 0.3, 1.0):
        total, c, k = composite_loss(em, ee, mm, vm, me, ve, lam, 1.0)
        assert float(total) == pytest.approx(lam * cca + (1 - lam) * kl, rel=1e-9)
    with pytest.raises(ValueError, match="lam"):
        composite_loss(em, ee, mm, vm, me, ve, 1.5)
    # mean reduction: the average over the 2 N (N - 1) = 480 hinges of the 16-pair batch
    total, _, k = composite_loss(em, ee, mm, vm, me, ve, 0.3, 1.0, kl_reduction="mean")
    assert float(k) == pytest.approx(kl / 480, rel=1e-9)
    assert float(total) == pytest.approx(0.3 * cca + 0.7 * kl / 480, rel=1e-9)
    with pytest.raises(ValueError, match="kl_reduction"):
        composite_loss(em, ee, mm, vm, me, ve, 0.3, kl_reduction="max")


def test_retrieval_score_formula():
    rng = np.random.default_rng(6)
    eq, et = rng.normal(size=(2, 5)), rng.normal(size=(3, 5))
    mq, mt = rng.normal(size=(2, 4)), rng.normal(size=(3, 4))
    vq, vt = rng.uniform(0.5, 2, (2, 4)), rng.uniform(0.5, 2, (3, 4))
    lam = 0.7
    s = retrieval_score(*(torch.tensor(a) for a in (eq, mq, vq, et, mt, vt)), lam).numpy()
    q, t = 1, 2
    pear = np.corrcoef(eq[q], et[t])[0, 1]
    kl = 0.5 * (np.sum(vq[q] / vt[t]) - 4 + np.sum(np.log(vt[t] / vq[q])) + np.sum((mt[t] - mq[q]) ** 2 / vt[t]))
    assert s[q, t] == pytest.approx(lam * pear - (1 - lam) * kl)


def test_cca_projection_gives_whitened_paired_canonical_variates():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(400, 3, generator=g, dtype=torch.float64)
    h1 = torch.cat([z, torch.randn(400, 2, generator=g, dtype=torch.float64)], 1) @ torch.randn(
        5, 5, generator=g, dtype=torch.float64
    )
    h2 = (z + 0.5 * torch.randn(400, 3, generator=g, dtype=torch.float64)) @ torch.randn(
        3, 3, generator=g, dtype=torch.float64
    )
    m1, w1, m2, w2, corr = cca_projection(h1, h2, reg=0.0)
    e1, e2 = (h1 - m1) @ w1, (h2 - m2) @ w2
    assert e1.shape == (400, 3) and e2.shape == (400, 3)  # min(d1, d2) pairs
    n = 399
    torch.testing.assert_close(e1.T @ e1 / n, torch.eye(3, dtype=torch.float64), atol=1e-8, rtol=0)
    torch.testing.assert_close(e2.T @ e2 / n, torch.eye(3, dtype=torch.float64), atol=1e-8, rtol=0)
    torch.testing.assert_close(e1.T @ e2 / n, torch.diag(corr), atol=1e-8, rtol=0)
    torch.testing.assert_close(corr, canonical_correlations(h1, h2, reg=0.0)[:3], atol=1e-6, rtol=0)
    assert corr[0] > 0.8 and bool((corr[:-1] >= corr[1:]).all())
