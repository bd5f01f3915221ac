"""Per-user baselines: measured by `cardiotune calibrate` or the first minutes of a run,
stored under the data dir, reused (calibrated from the first window) on the next run."""
import json

import pytest
from cardiotune.edge.calibration import CalibrationStore, baseline_from_session, default_data_dir
from cardiotune.edge.features import Baseline
from cardiotune.edge.session import load_session

from cardiotune.cli import main
from cardiotune.errors import DataError


def test_store_round_trip_and_damage_is_named(tmp_path):
    store = CalibrationStore(tmp_path)
    assert store.load("ann") is None
    path = store.save("ann", Baseline(61.5, 42.0, 55.0, 90), "test", 120.0)
    got = store.load("ann")
    assert got.baseline == Baseline(61.5, 42.0, 55.0, 90) and got.source == "test"
    assert path == tmp_path / "users" / "ann.json"
    path.write_text("{broken")
    with pytest.raises(DataError, match="ann.json is damaged"):
        store.load("ann")
    with pytest.raises(ValueError, match="user '../x'"):
        store.path("../x")


def test_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CARDIOTUNE_DATA_DIR", str(tmp_path / "d"))
    assert default_data_dir() == tmp_path / "d"


def test_baseline_from_the_first_minutes_of_the_real_demo_ecg():
    s = load_session("builtin:demo")
    b = baseline_from_session(s, 120.0)
    assert 40 < b.hr_bpm < 120 and b.rmssd_ms > 0 and b.n_windows >= 10
    with pytest.raises(DataError, match="at least one 20 s window"):
        baseline_from_session(s, 5.0)


def test_calibrate_command_stores_and_a_run_reuses_it(tmp_path, capsys):
    rc = main(["calibrate", "--user", "bob", "--duration", "90", "--data-dir", str(tmp_path)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stored"] == str(tmp_path / "users" / "bob.json")
    assert CalibrationStore(tmp_path).load("bob").baseline.hr_bpm == pytest.approx(out["baseline"]["hr_bpm"])
    with pytest.raises(SystemExit):
        main(["calibrate", "--user", "a/b"])
