import json

import numpy as np
import pytest

pytestmark = pytest.mark.train
torch = pytest.importorskip("torch")

from cardiotune.export.train_common import LoopConfig, fit, load_toml_section, seed_everything  # noqa: E402

from cardiotune.errors import ConfigError  # noqa: E402


def _problem(seed=0):
    rng = seed_everything(seed)
    x = torch.as_tensor(np.random.default_rng(1).normal(size=(64, 3)).astype(np.float32))
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def batches(epoch, rng):
        order = rng.permutation(64)
        for s in range(0, 64, 16):
            yield order[s : s + 16]

    def step(idx):
        return ((model(x[idx]) - y[idx]) ** 2).mean()

    def validate():
        return {"val_loss": float(((model(x) - y) ** 2).mean())}

    return model, opt, step, batches, validate, rng


def test_resume_gives_the_same_weights_as_one_run(tmp_path):
    m1, o1, s1, b1, v1, r1 = _problem()
    fit(m1, o1, s1, b1, v1, LoopConfig(epochs=6, patience=10, progress=False), r1)
    ck = tmp_path / "ck.pt"
    m2, o2, s2, b2, v2, r2 = _problem()
    fit(m2, o2, s2, b2, v2, LoopConfig(epochs=3, patience=10, progress=False), r2, ck)
    m3, o3, s3, b3, v3, r3 = _problem(seed=99)  # fresh process state; the checkpoint restores it
    res = fit(
        m3, o3, s3, b3, v3, LoopConfig(epochs=6, patience=10, progress=False), r3, ck, resume=True
    )
    assert len(res.history) == 6
    for a, b in zip(m1.state_dict().values(), m3.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_early_stopping_keeps_best_weights():
    model, opt, step, batches, _, rng = _problem()
    values = iter([1.0, 0.5, 0.9, 0.8, 0.7, 0.6, 0.4])

    def validate():
        return {"val_loss": next(values)}

    res = fit(
        model, opt, step, batches, validate, LoopConfig(epochs=7, patience=3, progress=False), rng
    )
    assert res.best_epoch == 1 and res.stopped_early and len(res.history) == 5


def test_toml_section_validation(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[speech]\nepochs = 3\nlr = 1\n")
    assert load_toml_section(p, "speech", {"epochs": 1, "lr": 0.1}) == {"epochs": 3, "lr": 1.0}
    p.write_text("[speech]\nepoch = 3\n")
    with pytest.raises(ConfigError, match="speech.epoch"):
        load_toml_section(p, "speech", {"epochs": 1})
    p.write_text('[speech]\nepochs = "many"\n')
    with pytest.raises(ConfigError, match="int"):
        load_toml_section(p, "speech", {"epochs": 1})
    with pytest.raises(ConfigError, match="TOML"):
        load_toml_section(tmp_path / "missing.toml", "speech", {})
    json.dumps({})
