"""The command line: list, show, plot, table, demo --quick (vmapped run = each schedule alone), bad input."""

import csv
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import matplotlib
import matplotlib.figure
import matplotlib.image
import numpy as np
import pytest

import optax_lrs as o
import optax_lrs.cli
from optax_lrs import demo


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "optax_lrs", *args], capture_output=True, text=True, timeout=600
    )


def test_list_shows_the_spec_schedules_with_plain_signatures(capsys):
    assert o.cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0)" in lines
    assert (
        "cyclic_schedule(base_value, max_value, step_size_up, step_size_down=None, mode='triangular', "
        "gamma=1.0)" in lines
    )
    assert not any("ArrayLike" in line or ": " in line for line in lines)
    names = {line.partition("(")[0] for line in lines}
    assert {"constant_schedule", "multistep_decay", "sgdr_schedule", "wsd_schedule"} <= names
    # what takes schedules or a function cannot be a name:key=value SPEC (see test_text_output.py)
    assert not names & {"binary", "select", "from_fn", "warmup", "join_schedules", "shift", "clip"}
    assert names < set(o.available())


def test_demo_quick_writes_outputs(tmp_path):
    r = cli("demo", "--quick", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["schedule"] for row in rows] == list(demo.schedules(300))
    assert all(0.5 < float(row["test_accuracy"]) <= 1.0 for row in rows)
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_vmapped_training_equals_each_schedule_alone():
    steps = 40
    scheds = list(demo.schedules(steps).values())
    data = demo.load_data()
    initial_state, run, _ = demo.make_trainer(scheds, data, batch_size=32)
    idx = jnp.arange(len(scheds))
    _, batched = jax.vmap(run, in_axes=(0, 0, None))(idx, jax.vmap(initial_state)(idx), steps)
    # each run alone, its schedule index traced (one program for the seven; tests/test_demo.py runs
    # concrete indices alone)
    alone_run = jax.jit(lambda i, state: run(i, state, steps)[1])
    for i in range(len(scheds)):
        alone = alone_run(jnp.int32(i), initial_state(i))
        np.testing.assert_allclose(batched[i], alone, rtol=2e-5, atol=1e-6)
    assert not np.allclose(batched[0], batched[4])


COS = "cosine_decay_schedule:init_value=0.1,decay_steps=100"
STEP = "multistep_decay:init_value=1,boundaries=[30, 60],decay_rate=0.1"


def test_table_values_from_the_formulas(capsys):
    assert o.cli.main(["table", COS, STEP, "--steps", "0,25,50,100,200"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["step", COS, STEP]
    t = np.array([0, 25, 50, 100, 200])
    got = np.array([[float(x) for x in r] for r in rows[1:]])
    np.testing.assert_array_equal(got[:, 0], t)
    np.testing.assert_allclose(got[:, 1], 0.05 * (1 + np.cos(np.pi * np.minimum(t, 100) / 100)), atol=1e-8)
    np.testing.assert_allclose(got[:, 2], [1, 1, 0.1, 0.01, 0.01], rtol=1e-6)


def test_table_with_n_steps_and_a_config_file(tmp_path, capsys):
    cfg = tmp_path / "sched.json"
    cfg.write_text(json.dumps(o.step_decay(1.0, 0.5, 2).to_config()))
    assert o.cli.main(["table", str(cfg), "--steps", "5"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["step", str(cfg)]
    assert [float(r[1]) for r in rows[1:]] == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_plot_writes_a_real_png(tmp_path):
    out = tmp_path / "sub" / "p.png"
    assert o.cli.main(["plot", COS, STEP, "--steps", "300", "-o", str(out), "--log"]) == 0
    image = matplotlib.image.imread(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_show_prints_signature_docstring_and_formula(capsys):
    assert o.cli.main(["show", "cosine_decay_schedule"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0)\n\n")
    assert "value(t) = init_value" in out and "Args:" in out and "ArrayLike" not in out.splitlines()[0]


def test_show_says_when_a_schedule_cannot_be_a_spec(capsys):
    assert o.cli.main(["show", "warmup"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "warmup(schedule, warmup_steps, init_value=0.0, mode='linear', shift=True)"
    assert "takes schedules or a function" in lines[2]


@pytest.fixture
def bad_files(tmp_path, monkeypatch):
    """Bad config files and output locations in a fresh working directory."""
    monkeypatch.chdir(tmp_path)
    cos = {"schedule": "cosine_decay_schedule", "params": {"init_value": 0.1, "decay_steps": 10}}
    files = {
        "syntax.yaml": "schedule: cosine_decay_schedule\nparams: [1, 2\n",
        "tag.yaml": '!!python/object/apply:os.system ["echo hi"]\n',
        "null.yaml": "schedule: cosine_decay_schedule\nparams: null\n",
        "date.yaml": "schedule: constant_schedule\nparams: {value: 2001-01-01}\n",
        "empty.json": " \n",
        "list.json": json.dumps([cos]),
        "big.json": json.dumps({**cos, "pad": "x" * 2**20}),
        "unknown.json": json.dumps({"schedule": "nope", "params": {}}),
        "missing.json": json.dumps({"schedule": "cosine_decay_schedule", "params": {"init_value": 1}}),
        "extra.json": json.dumps({**cos, "params": {**cos["params"], "foo": 1}}),
        "code.json": json.dumps({"schedule": "from_fn", "params": {"fn": "os:getcwd"}}),
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "deep64.json": json.dumps(cos)[:-2] + ', "alpha": ' + "[" * 70 + "]" * 70 + "}}",
        "hugeint.json": json.dumps(cos)[:-2] + ', "alpha": 1' + "0" * 5000 + "}}",
        "config.txt": json.dumps(cos),
        "some_file.txt": "x",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "binary.json").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "nul.yaml").write_bytes(b"schedule: constant_schedule\x00\x01\nparams: {value: 1}\n")
    (tmp_path / "binary.cfg").write_bytes(bytes(range(256)))
    (tmp_path / "dup.json").write_text(
        '{"schedule": "cosine_decay_schedule", "params": {"init_value": 0.1, "decay_steps": 10, '
        '"decay_steps": 20}}'
    )
    (tmp_path / "dup_nested.json").write_text(
        '{"schedule": "warmup", "params": {"warmup_steps": 3, "schedule": {"schedule": '
        '"constant_schedule", "params": {"value": 1, "value": 2}}}}'
    )
    (tmp_path / "dup.yaml").write_text(
        "schedule: cosine_decay_schedule\nparams:\n  decay_steps: 10\n  init_value: 0.1\n  decay_steps: 20\n"
    )
    (tmp_path / "dup_top.yaml").write_text(
        "schedule: constant_schedule\nparams: {value: 1}\nschedule: cosine_decay_schedule\n"
    )
    grid = o.grid(o.cosine_decay_schedule, init_value=[0.0731, 0.31], decay_steps=37)
    (tmp_path / "grid.json").write_text(json.dumps(grid.to_config()))
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "folder").mkdir()
    return tmp_path


S = "cosine_decay_schedule:init_value=0.1,decay_steps=10"
BAD = [
    (["show", "nope"], "unknown schedule 'nope'"),
    (["list", "extra"], "unrecognized arguments: extra"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["table", "nope:x=1", "--steps", "3"], "unknown schedule 'nope'"),
    (["table", "cosine_decay_schedule:init_value=0.1", "--steps", "3"], "missing parameter 'decay_steps'"),
    (["table", COS + ",foo=2", "--steps", "3"], "unknown parameter 'foo'"),
    (["table", S.replace("10", "-1"), "--steps", "3"], "decay_steps must be > 0, got -1"),
    (["table", "constant_schedule:value=abc", "--steps", "3"], "constant_schedule: value must be a"),
    (["table", S + ",", "--steps", "3"], "cosine_decay_schedule: expected key=value, got ''"),
    (["table", "cosine_decay_schedule:garbage", "--steps", "3"], "expected key=value, got 'garbage'"),
    (["table", S + ",decay_steps=20", "--steps", "3"], "cosine_decay_schedule: decay_steps is given twice"),
    (
        ["table", S + ";rm", "--steps", "3"],
        "decay_steps must be a Python literal or a bare word, got '10;rm'",
    ),
    (["table", "constant_schedule:value={1, 2}", "--steps", "3"], "JSON data (dict, list, str, number"),
    (["table", "from_fn:fn=os:getcwd", "--steps", "3"], "from_fn: fn 'os:getcwd' is Python code"),
    (["table", S, "--steps", "x"], "--steps must be"),
    (["table", S, "--steps", "²"], "--steps must be N or a comma-separated list"),
    (["table", S, "--steps", "-1"], "--steps must be N or a comma-separated list"),
    (["table", S, "--steps", "0"], "--steps must be a positive number"),
    (["table", S, "--steps", "10000001"], "--steps N must be at most 10000000, got '10000001'"),
    (["table", S, "--steps", "1000000000"], "--steps N must be at most 10000000"),
    (
        ["table", S, "--steps", "0,2147483648"],
        "--steps must each be < 2**31 = 2147483648 (int32 steps), got 2147483648; for longer runs set "
        "JAX_ENABLE_X64=1 (int64 steps)",
    ),
    (["table", S, "--steps", "4294967296,3"], "got 4294967296; for longer runs set JAX_ENABLE_X64=1"),
    (["table", S, "--steps", "1," + "9" * 5000], "--steps must each be < 2**31"),
    (["table", S], "--steps"),
    (["table", "missing.yaml", "--steps", "3"], "config file 'missing.yaml': no such file"),
    # a SPEC with a dot or a path separator before its first ':' is a file, not a schedule name
    (["table", "missing.cfg", "--steps", "3"], "config file 'missing.cfg': no such file"),
    (["table", "runs/sched", "--steps", "3"], "config file 'runs/sched': no such file"),
    (["table", "./cosine_decay_schedule", "--steps", "3"], "'./cosine_decay_schedule': no such file"),
    (["plot", "nope.yml", "--steps", "3", "-o", "p.png"], "config file 'nope.yml': no such file"),
    (
        ["table", "cosine_decay_schedule:init_value=[0.1,0.2],decay_steps=10", "--steps", "3"],
        "cosine_decay_schedule: init_value must be one number, got [0.1, 0.2] (a list makes a batch",
    ),
    (
        [
            "table",
            "warmup_cosine_decay_schedule:init_value=0,peak_value=1,warmup_steps=[3, 4],decay_steps=9",
            "--steps",
            "3",
        ],
        "warmup_cosine_decay_schedule: warmup_steps must be one number, got [3, 4]",
    ),
    (
        ["plot", "grid.json", "--steps", "3", "-o", "p.png"],
        "config file 'grid.json': cosine_decay_schedule: init_value must be one number, got [0.0731, 0.31]",
    ),
    (["table", "dup.json", "--steps", "3"], "config file 'dup.json': key 'decay_steps' appears twice"),
    (["table", "dup_nested.json", "--steps", "3"], "'dup_nested.json': key 'value' appears twice"),
    (
        ["table", "dup.yaml", "--steps", "3"],
        "config file 'dup.yaml': key 'decay_steps' appears twice in one mapping (line 5)",
    ),
    (["table", "dup_top.yaml", "--steps", "3"], "key 'schedule' appears twice in one mapping (line 3)"),
    (["table", "binary.yaml", "--steps", "3"], "config file 'binary.yaml': is not UTF-8 text"),
    (["table", "nul.yaml", "--steps", "3"], "config file 'nul.yaml': is not valid YAML"),
    (["table", "binary.cfg", "--steps", "3"], "config file 'binary.cfg' must end in .json, .yaml, .yml"),
    (["table", "syntax.yaml", "--steps", "3"], "config file 'syntax.yaml': is not valid YAML: while parsing"),
    (
        ["table", "tag.yaml", "--steps", "3"],
        "constructor for the tag 'tag:yaml.org,2002:python/object/apply:os",
    ),
    (
        ["table", "null.yaml", "--steps", "3"],
        "params of cosine_decay_schedule must be a dict of parameters, got None",
    ),
    (["table", "date.yaml", "--steps", "3"], "JSON data (dict, list, str, number, bool, None), got datetime"),
    (["table", "empty.json", "--steps", "3"], "config file 'empty.json': is empty"),
    (["table", "list.json", "--steps", "3"], "config must be a dict with keys 'schedule' and 'params'"),
    (["table", "big.json", "--steps", "3"], "config file 'big.json': is larger than 1048576 bytes"),
    (["table", "binary.json", "--steps", "3"], "config file 'binary.json': is not UTF-8 text"),
    (["table", "folder.json", "--steps", "3"], "config file 'folder.json': is a directory"),
    (["table", "folder", "--steps", "3"], "config file 'folder': is a directory"),
    (["table", "config.txt", "--steps", "3"], "config file 'config.txt' must end in .json"),
    (["table", "unknown.json", "--steps", "3"], "from_config: unknown schedule 'nope'"),
    (["table", "missing.json", "--steps", "3"], "cosine_decay_schedule: missing parameter 'decay_steps'"),
    (["table", "extra.json", "--steps", "3"], "cosine_decay_schedule: unknown parameter 'foo'"),
    (
        ["table", "code.json", "--steps", "3"],
        "config file 'code.json': from_fn: fn 'os:getcwd' is Python code",
    ),
    (["table", "deep.json", "--steps", "3"], "config file 'deep.json': is nested too deeply"),
    (["table", "deep64.json", "--steps", "3"], "from_config: config nested deeper than 64 levels"),
    (["table", "hugeint.json", "--steps", "3"], "config file 'hugeint.json': is not valid JSON"),
    (["plot", "code.json", "--steps", "3", "-o", "p.png"], "from_fn: fn 'os:getcwd' is Python code"),
    (["plot", COS, "--steps", "3", "-o", "p.txt"], "-o must end in .png"),
    (["plot", COS, "-o", "p.png"], "--steps"),
    (["plot", S, "--steps", "3", "-o", "some_file.txt/x.png"], "'some_file.txt' is not a directory"),
    (["plot", S, "--steps", "3", "-o", "/proc/x.png"], "plot: -o '/proc/x.png' cannot be written"),
    (["plot", S, "--steps", "3", "-o", "folder.png"], "plot: -o 'folder.png' is a directory"),
    (["plot", S, "--steps", "3", "-o", "x.png/"], "plot: -o 'x.png/' names a directory, not a file"),
    (["demo", "--out", "some_file.txt"], "demo: --out 'some_file.txt' is not a directory"),
    (
        ["demo", "--out", "some_file.txt/x"],
        "demo: --out 'some_file.txt/x': 'some_file.txt' is not a directory",
    ),
    (["demo", "--out", "/proc/demo"], "demo: --out '/proc/demo' cannot be written"),
    (
        ["bench", "--out", "some_file.txt/b.json"],
        "bench: --out 'some_file.txt/b.json': 'some_file.txt' is not",
    ),
    (["bench", "--out", "folder"], "bench: --out 'folder' is a directory"),
    (["bench", "--only", "nope"], "bench: --only must name groups among"),
]


def run_main(args, capsys):
    try:
        rc = o.cli.main(args)
    except SystemExit as e:  # argparse's own errors (a missing option) exit from the parser
        rc = e.code
    return rc, capsys.readouterr()


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a)[:60] for a, _ in BAD])
def test_bad_input_exits_2_with_one_clear_line(args, message, bad_files, capsys, monkeypatch):
    from optax_lrs.benchmarks import suite

    from optax_lrs import demo as demo_module

    def never(*a, **k):
        raise AssertionError("the long work started before the bad input was refused")

    monkeypatch.setattr(demo_module, "load_data", never)
    monkeypatch.setattr(suite, "run", never)
    before = sorted(p.name for p in bad_files.rglob("*"))
    rc, captured = run_main(args, capsys)
    err = captured.err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("optax-lrs: error:") and message in err, err
    assert sorted(p.name for p in bad_files.rglob("*")) == before  # nothing written, nothing left


def test_unreadable_config_file_is_one_line(tmp_path, capsys):
    if not os.path.isfile("/proc/self/mem"):
        pytest.skip("needs Linux /proc/self/mem, a file whose read fails even for root")
    (tmp_path / "mem.json").symlink_to("/proc/self/mem")
    rc, captured = run_main(["table", str(tmp_path / "mem.json"), "--steps", "3"], capsys)
    assert rc == 2
    assert captured.err.startswith(f"optax-lrs: error: config file '{tmp_path / 'mem.json'}': cannot be read")
    assert captured.err.count("\n") == 1


def test_steps_up_to_2_31_minus_1_are_accepted(capsys):
    assert o.cli.main(["table", "constant_schedule:value=0.5", "--steps", "0,2147483647"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "step,constant_schedule:value=0.5",
        "0,0.5",
        "2147483647,0.5",
    ]


def test_help_documents_allow_code(capsys):
    for command in ("table", "plot"):
        with pytest.raises(SystemExit) as e:
            o.cli.main([command, "--help"])
        assert e.value.code == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "--allow-code" in out and "imported and run" in out


def test_a_failed_write_leaves_the_old_output_and_no_temp_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "p.png"
    out.write_bytes(b"old")

    def broken_savefig(self, path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    rc, captured = run_main(["plot", COS, "--steps", "10", "-o", str(out)], capsys)
    assert rc == 2 and captured.err == "optax-lrs: error: [Errno 28] No space left on device\n"
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["p.png"]


def test_demo_refuses_a_bad_out_dir_before_training(tmp_path, monkeypatch):
    (tmp_path / "f.txt").write_text("x")

    def never(*a, **k):
        raise AssertionError("training started before out_dir was checked")

    monkeypatch.setattr(demo, "load_data", never)
    monkeypatch.setattr(demo, "make_trainer", never)
    with pytest.raises(ValueError, match="run_demo: out_dir '.*f.txt/x': '.*f.txt' is not a directory"):
        demo.run_demo(10, str(tmp_path / "f.txt" / "x"))


def test_bad_value_in_a_subprocess_has_no_traceback():
    r = cli("table", "cosine_decay_schedule:init_value=0.1,decay_steps=-1", "--steps", "3")
    assert r.returncode == 2
    assert r.stderr.strip() == "optax-lrs: error: cosine_decay_schedule: decay_steps must be > 0, got -1"
