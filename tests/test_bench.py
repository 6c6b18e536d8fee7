"""`optax-lrs bench --quick` runs and writes valid records (no timing assertions: machines are noisy)."""

import json

import numpy as np
import pytest

from optax_lrs.cli import main

KEYS = {"benchmark", "case", "ours_s", "baseline", "baseline_s", "ratio", "backend", "device"}


def test_bench_quick_writes_valid_records(tmp_path, capsys, monkeypatch):
    from optax_lrs.benchmarks import suite, training

    assert suite.GROUPS["training"].times == 3  # the suite repeats it; once is enough to test the records
    monkeypatch.setitem(suite.GROUPS, "training", suite.repeated(training.run, 1))
    # the records are under test, not the timings: the fewest repetitions `compare` allows
    from optax_lrs.benchmarks import _timing, transforms

    def fewest(*args, reps=7, budget_s=20.0):
        return _timing.compare(*args, reps=3, budget_s=0.0)

    for module in (training, transforms):
        monkeypatch.setattr(module, "compare", fewest)
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
    for r in records:  # only the repeated group carries its repetitions
        assert r["ratio_runs"] == [r["ratio"]] if r["benchmark"] == "training_step" else "ratio_runs" not in r
    (transforms,) = [t for t in data["targets"] if t["target"].startswith("optax transforms")]
    assert transforms["cases"] == 3  # plateau, scale_by_tree, inject_hyperparams: one record each
    assert {t["target"] for t in data["targets"] if t["cases"]} >= {"eager call: <= 20 us"}
    assert "eager_call" in capsys.readouterr().out


def test_bench_rejects_an_unknown_group(capsys):
    assert main(["bench", "--only", "nope"]) == 2
    assert "--only must name groups" in capsys.readouterr().err


def _meta(date):
    return {
        "date": date,
        "platform": "Linux",
        "processor": "x86_64",
        "cpu_count": 2,
        "python": "3.11",
        "jax": "0",
        "optax": "0",
        "optax_lrs": "0",
        "backend": "cpu",
        "devices": ["cpu"],
        "command": "optax-lrs bench",
        "seconds": 1.0,
    }


def _rec(benchmark, case, ratios, **extra):
    """A record over repetitions as `repeated` and the sweep write them: the median one's times."""
    mid = sorted(ratios)[len(ratios) // 2]
    return {
        "benchmark": benchmark,
        "case": case,
        "ours_s": mid * 0.05,
        "baseline": extra.pop("baseline", "constant learning rate"),
        "baseline_s": 0.05,
        "ratio": mid,
        "backend": "cpu",
        "device": "cpu",
        "note": "schedule from ours",
        "ratio_runs": ratios,
        **extra,
    }


def test_targets_count_repetitions_and_show_their_range():
    from optax_lrs.benchmarks import report, suite, sweep

    records = [
        _rec("training_step", "a", [1.013, 0.996, 1.031]),  # median +1.3%: met; 2 of 3 repetitions
        _rec("training_step", "b", [1.004, 1.025, 1.019]),  # median +1.9%: met; 2 of 3 repetitions
        _rec(
            "sweep",
            "K=16 scratch",
            [1 / 14.2, 1 / 9.1, 1 / 12.5],
            baseline=sweep.PER_CONFIG,
            k=16,
            phase="scratch",
            loss_diff=3.1e-5,
        ),
    ]
    rows = {r["target"]: r for r in suite.check_targets(records)}
    training = rows["training step: <= 2% overhead over a constant learning rate"]
    assert training["met"] and training["repetitions_met"] == [4, 6]
    assert training["spread"][0] == "a: +1.3% (range -0.4% to +3.1%)"
    (speed,) = [r for t, r in rows.items() if t.startswith("sweep, K = 16")]
    assert speed["met"] and speed["repetitions_met"] == [2, 3]
    assert speed["spread"] == ["K=16 scratch: 12.5x faster (range 14.2x faster to 9.1x faster)"]
    (loss,) = [r for t, r in rows.items() if t.startswith("sweep: final losses")]
    assert not loss["met"] and loss["missed"] == ["K=16 scratch: max |diff| 3.1e-05"]
    text = report.section(
        {"meta": _meta("2026-01-02"), "records": records[:2], "targets": list(rows.values())}
    )
    assert "| yes | 4 of 6 | a: +1.3% (range -0.4% to +3.1%)<br>b: +1.9%" in text
    assert "| **no** | - | - | K=16 scratch: max \\|diff\\| 3.1e-05 |" in text


def test_repeated_keeps_the_median_repetition_and_every_ratio():
    from optax_lrs.benchmarks import suite

    ratios = iter([1.21, 0.93, 1.07])

    def group(quick):
        r = next(ratios)
        return [{"benchmark": "b", "case": "c", "ours_s": r * 0.2, "baseline_s": 0.2, "ratio": r}]

    (rec,) = suite.repeated(group, 3)(True)
    assert rec["ratio"] == 1.07 and rec["ours_s"] == pytest.approx(0.214)
    assert rec["ratio_runs"] == [1.21, 0.93, 1.07]
    assert rec["ours_runs"] == pytest.approx([0.242, 0.186, 0.214]) and rec["baseline_runs"] == [0.2] * 3


def test_report_shows_a_re_measured_benchmark_only_in_the_later_run(tmp_path):
    from optax_lrs.benchmarks import report, suite

    old = [_rec("training_step", "old case", [1.005]), _rec("eager_call", "call", [0.1], ours_s=1e-5)]
    new = [_rec("training_step", "new case", [1.003, 0.998, 1.011])]
    paths = []
    for name, date, recs in (("old", "2026-01-01 00:00", old), ("new", "2026-02-01 00:00", new)):
        path = tmp_path / f"{name}.json"
        path.write_text(
            json.dumps({"meta": _meta(date), "records": recs, "targets": suite.check_targets(recs)})
        )
        paths.append(str(path))
    text = report.report(paths)
    assert text.index("2026-02-01") < text.index("2026-01-01")  # newest first
    assert "new case" in text and "old case" not in text
    assert text.count("training step: <= 2% overhead") == 1
    assert "left out here: training_step" in text and "| call |" in text


def test_sweep_tiny_runs_and_gives_the_report_its_fields(tmp_path):
    """A 2 x 2 sweep of 13 steps, once: four records (two baselines, from scratch and compiled)."""
    from optax_lrs.benchmarks import report, suite, sweep

    records = sweep.sweep([(4, 1)], steps=13, warmup=False)
    assert len(records) == 4
    for r in records:
        assert KEYS <= set(r) and r["benchmark"] == "sweep" and r["k"] == 4 and r["steps"] == 13
        assert r["ratio"] == pytest.approx(r["ours_s"] / r["baseline_s"])
        assert len(r["ours_runs"]) == len(r["baseline_runs"]) == len(r["ratio_runs"]) == 1
        # the three ways train the same 4 configurations in the same order: equal final losses
        assert r["loss_diff"] <= 1e-5 and r["inject_vs_optax"] <= 1e-5
        assert 0.0 < r["final_loss"][0] < r["final_loss"][1] < np.log(10.0)  # trained below chance
    compiles = {(r["baseline"], r["phase"]): r["compiles"] for r in records}
    assert compiles == {
        (sweep.PER_CONFIG, "scratch"): 4,
        (sweep.PER_CONFIG, "compiled"): 4,
        (sweep.INJECT, "scratch"): 2,
        (sweep.INJECT, "compiled"): 2,
    }
    rows = suite.check_targets(records)
    (loss,) = [r for r in rows if r["target"].startswith("sweep: final losses")]
    assert loss["cases"] == 1 and loss["met"]  # ours against optax per configuration
    text = report.section({"meta": _meta("2026-01-01"), "records": records, "targets": rows})
    assert "### The sweep" in text and "| 4 | 1 | from scratch (trace, compile, run) |" in text
    png = tmp_path / "sweep.png"
    sweep.figure(records, str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
