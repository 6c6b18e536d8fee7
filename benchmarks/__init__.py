"""The optax_lrs benchmark suite: ours vs a baseline, measured side by side in one run.

Installed as `optax_lrs.benchmarks`; run it with `optax-lrs bench [--quick] [--out FILE.json]` or
`python -m optax_lrs.benchmarks.suite`. One module per benchmark group, each with `run(quick)` returning
records `{benchmark, case, ours_s, baseline, baseline_s, ratio, backend, device}` (plus `note`).
"""
