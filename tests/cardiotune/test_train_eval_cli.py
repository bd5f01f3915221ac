import pytest

from cardiotune.cli import build_parser, main
from cardiotune.commands.train import TASKS


def test_train_and_evaluate_commands_are_registered():
    p = build_parser()
    args = p.parse_args(["train", "speech", "--config", "configs/train/speech.toml"])
    assert args.task == "speech" and not args.resume
    assert {"speech", "ecg"} <= set(TASKS)
    assert p.parse_args(["evaluate", "speech", "--folds", "10"]).folds == 10
    assert p.parse_args(["eval", "ecg", "--out", "x"]).out == "x"
    with pytest.raises(SystemExit):
        p.parse_args(["train", "nonsense", "--config", "x.toml"])


@pytest.mark.train
def test_bad_config_key_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("torch")
    cfg = tmp_path / "ecg.toml"
    cfg.write_text("[ecg]\nhiden = 3\n")
    assert main(["train", "ecg", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "ecg.hiden" in err and "hidden" in err
