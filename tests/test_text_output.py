"""Text for people: config decimals, `table` numbers, `list`/`show` signatures, plot labels and legend,
`--version`, steps past 2**31 under x64."""

import csv
import json
import os
import re
import subprocess
import sys
import textwrap
from importlib import metadata

import matplotlib
import numpy as np
import pytest
from catalogue import CASES
from matplotlib.backends.backend_agg import FigureCanvasAgg

import optax_lrs as o
import optax_lrs.cli
from optax_lrs._spec import parse
from optax_lrs.plotting import label, labels

matplotlib.use("Agg")


def fewest_digits(x, dtype=np.float32):
    """The fewest significant digits p such that the correctly rounded p-digit decimal of `x` reads
    back as `x` in `dtype` (a brute force over p, independent of NumPy's shortest-repr algorithm)."""
    for p in range(1, 18):
        with np.errstate(over="ignore"):
            if dtype(float(f"{float(x):.{p - 1}e}")) == x:
                return p
    raise AssertionError(x)


def digits(text):
    """Significant digits of a decimal such as '0.0731', '1e-45' or '123.0'."""
    mantissa = text.lower().lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) or 1


def random_finite(dtype, n, seed):
    bits = {np.float32: np.uint32, np.float64: np.uint64}[dtype]
    raw = np.random.default_rng(seed).integers(0, np.iinfo(bits).max, n, dtype=np.uint64, endpoint=True)
    x = raw.astype(bits).view(dtype)
    return x[np.isfinite(x)]


# --- configs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stored"),
    [(3e-4, 0.0003), (0.0731, 0.0731), (1 / 3, 0.33333334), (0.1, 0.1), (1e-45, 1e-45), (-2.5, -2.5)],
)
def test_to_config_stores_the_shortest_decimal_of_the_float32(value, stored):
    text = json.dumps(o.constant_schedule(value).to_config())
    assert text == f'{{"schedule": "constant_schedule", "params": {{"value": {stored!r}}}}}'


def test_random_float32_leaves_round_trip_bit_for_bit_with_the_fewest_digits():
    x = random_finite(np.float32, 20_000, seed=37)  # every binade, subnormals and -0.0 included
    x = np.concatenate([x, np.float32([0.0, -0.0, np.finfo(np.float32).max, np.finfo(np.float32).tiny])])
    cfg = json.loads(json.dumps(o.constant_schedule(x).to_config()))
    stored = cfg["params"]["value"]
    back = np.asarray(o.from_config(cfg).params()["value"])
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back.view(np.uint32), x.view(np.uint32))
    longer = [v for v, s in zip(x, stored) if digits(repr(s)) > fewest_digits(v)]
    # the exception: a short decimal above float32's largest value (3.4028235e38 reads back as it, but a
    # range check in float64 refuses it), so the exact value is stored
    top = float(np.finfo(np.float32).max)
    assert all(abs(float(f"{float(v):.{fewest_digits(v) - 1}e}")) > top for v in longer), longer[:5]
    assert len(longer) < 5


def run_x64(code):
    env = {**os.environ, "JAX_ENABLE_X64": "1"}
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=600, env=env
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_x64_float64_leaves_round_trip_bit_for_bit():
    out = run_x64(
        """
        import json, numpy as np, optax_lrs as o
        rng = np.random.default_rng(37)
        x = rng.integers(0, 2**64 - 1, 20_000, dtype=np.uint64, endpoint=True).view(np.float64)
        x = x[np.isfinite(x)]
        cfg = json.loads(json.dumps(o.constant_schedule(x).to_config()))
        back = np.asarray(o.from_config(cfg).params()["value"])
        print(back.dtype, np.array_equal(back.view(np.uint64), x.view(np.uint64)))
        print(json.dumps(o.cosine_decay_schedule(3e-4, 37).to_config()["params"]["init_value"]))
        """
    )
    assert out.splitlines() == ["float64 True", "0.0003"]


# --- table ------------------------------------------------------------------------------------------


def test_table_prints_the_shortest_decimal_of_each_float32(capsys):
    specs = ["constant_schedule:value=0.1", "cosine_decay_schedule:init_value=0.0731,decay_steps=37"]
    steps = [0, 1, 5, 13, 36, 37]
    assert o.cli.main(["table", *specs, "--steps", ",".join(map(str, steps))]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[1] == ["0", "0.1", "0.0731"]  # not 0.100000001
    t = np.array(steps, dtype=np.float64)
    np.testing.assert_allclose(
        [float(r[2]) for r in rows[1:]], 0.0731 * 0.5 * (1 + np.cos(np.pi * t / 37)), rtol=1e-6, atol=1e-9
    )
    for row in rows[1:]:
        for text in row[1:]:
            assert digits(text) <= fewest_digits(np.float32(text)), text


def test_x64_accepts_steps_past_2_31():
    out = run_x64(
        """
        import optax_lrs.cli
        steps = "0,2147483646,2147483647,4294967294,4294967295,9223372036854775807"
        optax_lrs.cli.main(["table", "step_decay:init_value=0.0731,decay_rate=0.5,decay_steps=2147483647",
                            "--steps", steps])
        print(optax_lrs.cli.main(["table", "constant_schedule:value=1", "--steps", "9223372036854775808"]))
        """
    )
    lines = out.splitlines()
    # the step_decay of the formula 0.0731 * 0.5 ** (t // (2**31 - 1)), float64 values under x64
    assert lines[1:7] == [
        "0,0.0731",
        "2147483646,0.0731",
        "2147483647,0.03655",
        "4294967294,0.018275",
        "4294967295,0.018275",
        "9223372036854775807,0.0",
    ]
    assert lines[7] == "2"


def test_steps_past_2_31_without_x64_say_how_to_get_them(capsys):
    assert o.cli.main(["table", "constant_schedule:value=1", "--steps", "3,2147483650"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "got 2147483650; for longer runs set JAX_ENABLE_X64=1" in err


# --- list and show ----------------------------------------------------------------------------------


def test_every_listed_schedule_builds_from_a_spec(capsys):
    """The rule of `list` (by the signature) against the catalogue: a listed name builds from a SPEC
    made of its catalogue arguments, equal to the schedule built in Python."""
    assert o.cli.main(["list"]) == 0
    listed = {line.partition("(")[0] for line in capsys.readouterr().out.splitlines()}
    checked = set()
    for case in CASES:
        if case.name in listed:
            kwargs = {k: list(v.items()) if isinstance(v, dict) else v for k, v in case.kwargs.items()}
            spec = f"{case.name}:" + ",".join(f"{k}={v!r}" for k, v in kwargs.items())
            assert parse(spec) == o.get(case.name, **case.kwargs), spec
            checked.add(case.name)
    assert checked == listed  # every listed name has a case
    takes_schedules = {"binary", "clip", "from_fn", "join_schedules", "per_epoch", "repeat", "select"}
    takes_schedules |= {"shift", "staircase", "swa_schedule", "warmup"}
    assert not listed & takes_schedules
    assert listed | takes_schedules <= set(o.available())


def test_signature_has_no_annotations():
    assert o.cli.signature(o.one_cycle_schedule) == (
        "(max_value, total_steps, pct_start=0.3, anneal='cos', div_factor=25.0, final_div_factor=10000.0, "
        "three_phase=False)"
    )
    assert o.cli.signature(o.from_fn) == "(fn, **hyperparams)"

    def f(a, *, b=1):
        pass

    assert o.cli.signature(f) == "(a, *, b=1)"


def test_list_help_states_the_rule(capsys):
    with pytest.raises(SystemExit) as e:
        o.cli.main(["list", "--help"])
    assert e.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "take schedules or a function" in out and "to_config" in out


# --- plot labels ------------------------------------------------------------------------------------


def test_labels_leave_out_defaults_even_when_stored_as_float32():
    assert label(o.one_cycle_schedule(0.0731, 37)) == "one_cycle_schedule(max_value=0.0731, total_steps=37)"
    assert label(o.one_cycle_schedule(0.0731, 37, pct_start=0.3, div_factor=25)) == (
        "one_cycle_schedule(max_value=0.0731, total_steps=37)"
    )
    assert label(o.warmup(o.cosine_decay_schedule(0.0731, 37, alpha=0.0), 7)) == (
        "warmup(schedule=cosine_decay_schedule(init_value=0.0731, decay_steps=37), warmup_steps=7)"
    )


ONE_CYCLE = dict(max_value=0.0731, total_steps=37, pct_start=0.27, div_factor=7.3, final_div_factor=313.0)


def test_overlaid_labels_show_what_differs_first_and_whole():
    a = o.one_cycle_schedule(**ONE_CYCLE, three_phase=True)
    b = o.one_cycle_schedule(**ONE_CYCLE)
    c = o.cosine_decay_schedule(0.0731, 37)
    got = labels([a, b, c], width=60)
    assert got == [
        "one_cycle_schedule(three_phase=True, max_value=0.0731, …)",
        "one_cycle_schedule(three_phase=False, max_value=0.0731, …)",  # False is the default: shown here
        "cosine_decay_schedule(init_value=0.0731, decay_steps=37)",
    ]
    assert labels([a, b], width=200) == [
        "one_cycle_schedule(three_phase=True, max_value=0.0731, total_steps=37, pct_start=0.27, "
        "div_factor=7.3, final_div_factor=313.0)",
        "one_cycle_schedule(three_phase=False, max_value=0.0731, total_steps=37, pct_start=0.27, "
        "div_factor=7.3, final_div_factor=313.0)",
    ]
    assert labels([c, c]) == [label(c), label(c) + " #2"]


@pytest.mark.parametrize("width", [20, 41, 57, 66, 80, 93])
def test_labels_are_never_cut_inside_a_parameter(width):
    scheds = [o.one_cycle_schedule(**ONE_CYCLE), o.multistep_decay(0.0731, [7, 13, 29], 0.37)]
    full = {"max_value=0.0731", "total_steps=37", "pct_start=0.27", "div_factor=7.3"}
    full |= {"final_div_factor=313.0", "init_value=0.0731", "boundaries=[7, 13, 29]", "decay_rate=0.37"}
    for text in labels(scheds, width=width):
        name, _, rest = text.partition("(")
        assert name in ("one_cycle_schedule", "multistep_decay") and rest.endswith(")")
        parts = re.split(r", (?![^\[]*\])", rest[:-1]) if rest != ")" else []  # not inside [...]
        assert all(p in full for p in parts[:-1]) and (not parts or parts[-1] in full | {"…"}), text
        assert len(text) <= width or parts == ["…"], text


def test_cli_plot_legend_is_outside_the_axes_and_keeps_the_differing_parameter(tmp_path, monkeypatch):
    figures = []
    save = o.cli.save_figure
    monkeypatch.setattr(
        o.cli, "save_figure", lambda fig, out, fmt: (figures.append(fig), save(fig, out, fmt))
    )
    base = "one_cycle_schedule:max_value=0.0731,total_steps=37,pct_start=0.27,div_factor=7.3"
    base += ",final_div_factor=313"
    specs = [base, base + ",three_phase=True", "cosine_decay_schedule:init_value=0.0731,decay_steps=37"]
    assert o.cli.main(["plot", *specs, "--steps", "37", "-o", str(tmp_path / "p.png")]) == 0
    (fig,) = figures
    (ax,) = fig.axes
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[0].startswith("one_cycle_schedule(three_phase=False, ") and len(texts[0]) <= 80
    assert texts[1].startswith("one_cycle_schedule(three_phase=True, ") and len(texts[1]) <= 80
    assert texts[2] == "cosine_decay_schedule(init_value=0.0731, decay_steps=37)"
    FigureCanvasAgg(fig)  # closed by save_figure: draw it again, as it was laid out and saved
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    axes_box = ax.get_window_extent(renderer)
    below = [ax.xaxis.label.get_window_extent(renderer)]
    below += [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert box.y1 < axes_box.y0  # under the axes: no curve is covered
    assert not any(box.overlaps(b) for b in below)  # nor the x label or tick labels
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0  # not cut off


# --- --version --------------------------------------------------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        o.cli.main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out == f"optax-lrs {metadata.version('optax_lrs')}\n"


def test_version_falls_back_to_the_package_attribute(capsys, monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(SystemExit) as e:
        o.cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out == "optax-lrs 0.1.0\n"


def test_version_from_the_command_line():
    r = subprocess.run(
        [sys.executable, "-m", "optax_lrs", "--version"], capture_output=True, text=True, timeout=600
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, f"optax-lrs {metadata.version('optax_lrs')}\n", "")
