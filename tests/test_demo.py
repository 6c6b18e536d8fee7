"""The demo and the optional extra: a missing package is one line naming the pip install; the demo's
runs (schedules x seeds under one vmap) are each run alone, with the optimizer its labels name; its
figure has a legend, labels and one colour per schedule, and leaves the caller's matplotlib backend alone."""

import csv
import importlib.util
import os
import statistics
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import matplotlib.colors
import matplotlib.pyplot as plt
import numpy as np
import pytest

from optax_lrs import _extras, demo

PIP_LINE = 'pip install "optax_lrs[demo]"'
REPO = Path(__file__).parents[1]


def python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def test_without_the_demo_extra_the_core_works_and_the_demo_says_what_to_install(tmp_path):
    out = tmp_path / "out"
    r = python(
        "import sys\n"
        "for name in ('matplotlib', 'sklearn', 'tqdm', 'yaml'):\n"
        "    sys.modules[name] = None  # as if not installed: importing it fails\n"
        "import optax_lrs as o\n"
        "print(round(float(o.cosine_decay_schedule(0.0731, 37)(0)), 6))\n"
        "from optax_lrs import cli\n"
        f"sys.exit(cli.main(['demo', '--quick', '--out', {str(out)!r}]))\n"
    )
    assert r.stdout == "0.0731\n"  # the core imported and ran without any of them
    assert r.returncode == 2, r.stderr
    assert r.stderr == (
        f"optax-lrs: error: the demo needs matplotlib, which is not installed: {PIP_LINE}\n"
    ), r.stderr
    assert not out.exists()


@pytest.mark.parametrize(("module", "package"), [("sklearn", "scikit-learn"), ("tqdm", "tqdm")])
def test_each_missing_package_of_the_demo_is_named(module, package, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError) as info:
        demo.run_demo(37, str(tmp_path / "out"))
    assert str(info.value) == f"the demo needs {package}, which is not installed: {PIP_LINE}"
    assert not (tmp_path / "out").exists()


def test_require():
    assert _extras.require("json").dumps([37]) == "[37]"
    with pytest.raises(_extras.MissingExtra) as info:
        _extras.require("yaml_is_not_here_0731", feature="reading YAML")
    assert isinstance(info.value, ModuleNotFoundError)
    assert str(info.value) == (
        'reading YAML needs yaml_is_not_here_0731, which is not installed: pip install "optax_lrs[demo]"'
    )
    with pytest.raises(ValueError, match="require: extra must be one of demo, all, got 'tests'"):
        _extras.require("json", extra="tests")


def test_require_names_pip_packages_by_their_pip_name(monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(_extras.MissingExtra) as info:
        _extras.require("yaml", extra="all", feature="YAML")
    assert str(info.value) == 'YAML needs pyyaml, which is not installed: pip install "optax_lrs[all]"'


def test_require_does_not_blame_the_extra_for_a_broken_dependency(tmp_path, monkeypatch):
    (tmp_path / "pkg_0731").mkdir()
    (tmp_path / "pkg_0731" / "__init__.py").write_text("import dependency_not_here_37\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as info:
        _extras.require("pkg_0731")
    assert not isinstance(info.value, _extras.MissingExtra)
    assert info.value.name == "dependency_not_here_37"


EXTRAS_FILE = REPO / "optax_lrs" / "_extras.py"


@pytest.mark.parametrize(
    ("mplbackend", "expected"),
    [(None, "agg"), ("svg", "svg"), ("module://matplotlib_inline.backend_inline", "inline")],
)
def test_use_file_backend_picks_agg_only_when_no_backend_was_chosen(mplbackend, expected):
    # _extras loaded by its path: a fresh process with matplotlib's backend still unchosen, without jax
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    if mplbackend:
        env["MPLBACKEND"] = mplbackend
    code = (
        "import importlib.util, matplotlib\n"
        f"spec = importlib.util.spec_from_file_location('extras', {str(EXTRAS_FILE)!r})\n"
        "extras = importlib.util.module_from_spec(spec); spec.loader.exec_module(extras)\n"
        "extras.use_file_backend()\n"
        "print(matplotlib.get_backend())\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert expected in r.stdout.strip().lower()


def test_noisy_labels_replace_the_given_fraction():
    y = np.tile(np.arange(10, dtype=np.int32), 1000)
    noisy = demo.noisy_labels(y, 0.3, seed=5)
    # each label is redrawn with probability 0.3 and then differs with probability 0.9: 0.27 of them
    # differ, binomial sd sqrt(0.27 * 0.73 / 10000) = 0.0044
    assert abs(np.mean(noisy != y) - 0.27) < 0.02
    assert set(np.unique(noisy)) == set(range(10))
    np.testing.assert_array_equal(demo.noisy_labels(y, 0.3, seed=5), noisy)
    assert np.mean(demo.noisy_labels(y, 0.3, seed=6) != noisy) > 0.3
    np.testing.assert_array_equal(demo.noisy_labels(y, 0.0, seed=5), y)


STEPS = 37


@pytest.fixture(scope="module")
def trainer():
    """The demo's trainer on 37 steps with noisy labels, and its run alone compiled once for the tests."""
    data = demo.load_data()
    scheds = list(demo.schedules(STEPS).values())
    initial_state, run, loss_fn = demo.make_trainer(scheds, data, batch_size=16, label_noise=0.3)
    return data, scheds, initial_state, jax.jit(run, static_argnums=2), loss_fn


def test_runs_of_schedules_x_seeds_under_one_vmap_are_each_run_alone(trainer):
    data, _, initial_state, run, _ = trainer
    index, seed = np.array([2, 6, 2]), np.array([5, 1, 1])
    state = demo.start_runs(initial_state, data[0][1], 0.3, index, seed)
    _, batched = jax.jit(jax.vmap(lambda i, s: run(i, s, STEPS)))(index, state)
    for r in range(3):
        _, alone = run(index[r], initial_state(int(index[r]), int(seed[r])), STEPS)
        np.testing.assert_allclose(batched[r], alone, rtol=2e-5, atol=1e-6)
    assert not np.allclose(batched[0], batched[2])  # another seed: other weights, batches and labels
    assert not np.allclose(batched[1], batched[2])  # another schedule from the same seed
    np.testing.assert_array_equal(state[0]["w1"][1], state[0]["w1"][2])  # the same seed's weights


def test_the_demo_trains_with_sgd_momentum_0_5_as_its_title_says(trainer):
    """Schedule 0 (constant 0.1) from seed 3 against the update written out by hand, v <- 0.5 v + g,
    w <- w - 0.1 v, on the seed's minibatches of its noisy labels."""
    data, scheds, initial_state, run, loss_fn = trainer
    state, _ = run(0, initial_state(0, 3), STEPS)
    x = jnp.asarray(data[0][0])
    labels = jnp.asarray(demo.noisy_labels(data[0][1], 0.3, 3))

    @jax.jit
    def by_hand(w, v, t):
        g = jax.grad(loss_fn)(w, *demo.minibatch(x, labels, t, 16, 3))
        v = jax.tree_util.tree_map(lambda v, g: 0.5 * v + g, v, g)
        return jax.tree_util.tree_map(lambda w, v: w - 0.1 * v, w, v), v

    w = demo.init_params(3)
    v = jax.tree_util.tree_map(jnp.zeros_like, w)
    for t in range(STEPS):
        w, v = by_hand(w, v, t)
    for k in w:
        np.testing.assert_allclose(state[0][k], w[k], rtol=2e-5, atol=1e-6)
    assert "SGD with momentum 0.5" in demo.describe(3000, 64, 0.3)
    assert demo.MOMENTUM == 0.5 and float(scheds[0](0)) == pytest.approx(0.1)


def test_summarize_means_and_spread_over_the_seeds():
    per_run = {
        "test_accuracy": np.array([[0.9, 0.92, 0.95], [0.81, 0.83, 0.8]]),
        "final_train_loss": np.array([[1.2, 1.1, 1.3], [0.7, 0.9, 0.8]]),
        "test_loss": np.array([[0.5, 0.4, 0.6], [0.3, 0.2, 0.7]]),
    }
    rows = demo.summarize(["a", "b"], per_run)
    assert [r["schedule"] for r in rows] == ["a", "b"]
    assert rows[0]["test_accuracy"] == pytest.approx((0.9 + 0.92 + 0.95) / 3)
    assert rows[0]["test_accuracy_std"] == pytest.approx(statistics.stdev([0.9, 0.92, 0.95]))
    assert rows[1]["final_train_loss"] == pytest.approx(0.8)
    assert rows[1]["test_loss"] == pytest.approx(0.4)
    assert rows[1]["seeds"] == 3 and rows[1]["test_accuracy_per_seed"] == "0.8100 0.8300 0.8000"
    table = demo.format_table(rows)
    assert "test accuracy (mean ± std, 3 seeds)" in table and "0.8133 ± 0.0153" in table


def test_main_prints_the_table_and_what_it_wrote(monkeypatch, capsys):
    rows = demo.summarize(
        ["constant"],
        {"test_accuracy": np.array([[0.9, 0.95]]), "final_train_loss": [[1.0, 1.0]], "test_loss": [[1, 1]]},
    )
    calls = []
    monkeypatch.setattr(demo, "run_demo", lambda steps, out: calls.append((steps, out)) or rows)
    assert demo.main(quick=True, out_dir="x_0731") == 0
    assert calls == [(300, "x_0731")]
    out = capsys.readouterr().out
    assert "0.9250 ± 0.0354" in out and "wrote x_0731/demo.png and x_0731/results.csv" in out


def _hand_made_results():
    named = demo.schedules(37)
    rng = np.random.default_rng(37)
    losses = 2.3 * np.exp(-np.arange(37) / 20.0) + 0.1 * rng.random((len(named), 3, 37))
    accuracy = np.linspace(0.81, 0.97, len(named) * 3).reshape(len(named), 3)
    return named, losses, accuracy


def test_the_figure_has_a_legend_labels_and_one_colour_per_schedule():
    named, losses, accuracy = _hand_made_results()
    fig = demo.figure(named, losses, accuracy, demo.describe(37, 64, 0.3))
    ax_loss, ax_lr, ax_err = fig.axes
    names = list(named)
    assert [t.get_text() for t in ax_loss.get_legend().get_texts()] == names
    assert ax_loss.get_ylabel() and ax_lr.get_ylabel() and ax_err.get_xlabel()
    assert "SGD with momentum 0.5" in fig.get_suptitle()

    def rgb(c):
        return matplotlib.colors.to_rgb(c)

    loss_colours = [rgb(line.get_color()) for line in ax_loss.get_lines()]
    lr_colours = [rgb(line.get_color()) for line in ax_lr.get_lines()]
    bars = ax_err.patches  # one bar per schedule, the first on top
    bar_colours = [rgb(b.get_facecolor()) for b in bars]
    assert len(set(loss_colours)) == len(names)
    assert loss_colours == lr_colours == bar_colours
    assert [t.get_text() for t in ax_err.get_yticklabels()] == names
    error = 100 * (1 - accuracy)
    np.testing.assert_allclose([b.get_width() for b in bars], error.mean(axis=1), rtol=1e-12)
    # the error bars span mean ± the seeds' standard deviation (ddof 1)
    spans = [seg[:, 0] for seg in ax_err.collections[0].get_segments()]
    np.testing.assert_allclose(
        [s[1] - s[0] for s in spans], 2 * np.array([statistics.stdev(e) for e in error]), rtol=1e-9
    )
    assert ax_err.get_xlim()[0] == 0  # bars start at zero: their lengths compare


def test_the_demo_leaves_the_callers_matplotlib_backend_alone(tmp_path, monkeypatch):
    def switched(*args, **kwargs):
        raise AssertionError("the demo switched matplotlib's backend")

    monkeypatch.setattr(matplotlib, "use", switched)
    monkeypatch.setattr(plt, "switch_backend", switched)
    before = plt.get_fignums()
    rows = demo.run_demo(50, str(tmp_path), batch_size=16, progress=False, seeds=2)
    assert plt.get_fignums() == before  # its figure is its own, not one of pyplot's
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / "results.csv") as f:
        saved = list(csv.DictReader(f))
    assert [r["schedule"] for r in saved] == list(demo.schedules(50))
    assert [float(r["test_accuracy"]) for r in saved] == pytest.approx([r["test_accuracy"] for r in rows])
    for r in saved:  # the mean and spread are those of the per-seed accuracies it lists
        per_seed = [float(a) for a in r["test_accuracy_per_seed"].split()]
        assert len(per_seed) == int(r["seeds"]) == 2
        assert float(r["test_accuracy"]) == pytest.approx(np.mean(per_seed), abs=1e-4)
        assert float(r["test_accuracy_std"]) == pytest.approx(statistics.stdev(per_seed), abs=2e-4)


def test_run_demo_refuses_bad_seeds_and_label_noise(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "load_data", lambda *a: pytest.fail("started before refusing"))
    with pytest.raises(ValueError, match=r"run_demo: seeds must be an integer >= 2 \(for a spread\), got 1"):
        demo.run_demo(37, str(tmp_path), seeds=1)
    with pytest.raises(ValueError, match=r"run_demo: label_noise must be in \[0, 1\), got 1.5"):
        demo.run_demo(37, str(tmp_path), label_noise=1.5)


def test_extras_module_is_loadable_without_the_package():
    # the backend test loads it by path; it must not need optax_lrs's own imports
    spec = importlib.util.spec_from_file_location("extras_alone", EXTRAS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.require("json").__name__ == "json"
