"""`optax-lrs bench --quick` runs and writes valid records (no timing assertions: machines are noisy)."""

import json

import pytest

from optax_lrs.cli import main

KEYS = {"benchmark", "case", "ours_s", "baseline", "baseline_s", "ratio", "backend", "device"}


def test_bench_quick_writes_valid_records(tmp_path, capsys):
    out = tmp_path / "bench.json"
    groups = ["eager", "training", "devices", "transforms"]
    assert main(["bench", "--quick", "--only", *groups, "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    records = data["records"]
    names = {r["benchmark"] for r in records}
    assert names == {"eager_call", "training_step", "devices", "transform_step", "averaging_step", "lr_find"}
    for r in records:
        assert KEYS <= set(r)
        assert r["ours_s"] > 0 and r["baseline_s"] > 0
        assert r["ratio"] == pytest.approx(r["ours_s"] / r["baseline_s"])
        assert r["backend"] == "cpu"
    (sharded,) = [r for r in records if r["benchmark"] == "devices"]
    assert "spread over 8 devices;" in sharded["note"]
    assert "within 8 float32 ulps of it: True" in sharded["note"]
    assert data["meta"]["quick"] is True and data["meta"]["jax"]
    (transforms,) = [t for t in data["targets"] if t["target"].startswith("optax transforms")]
    assert transforms["cases"] == 3  # plateau, scale_by_tree, inject_hyperparams: one record each
    assert {t["target"] for t in data["targets"] if t["cases"]} >= {"eager call: <= 20 us"}
    assert "eager_call" in capsys.readouterr().out


def test_bench_rejects_an_unknown_group(capsys):
    assert main(["bench", "--only", "nope"]) == 2
    assert "--only must name groups" in capsys.readouterr().err
