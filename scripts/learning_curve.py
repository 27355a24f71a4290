#!/usr/bin/env python
"""Learning curve: internal (IV) and external (EV) AUC against the size of the training cohort, on the demo.

For each training size and demo seed, a demo training cohort of that size (and the same 170-patient external
cohort design) is validated by the package's engine (1 x 3-fold CV at the 3-year horizon by default), every method
on the same folds. The mean IV and EV AUC per size, seed and method go to a CSV, which the methods page (06a) plots
(the figure a reader needs to decide whether the method suits a cohort of their size).

    python scripts/learning_curve.py                                    # ~1 hour on 2 cores
    python scripts/learning_curve.py --sizes 150,300 --seeds 0 --methods SurvConvMixer,CoxNet --out /tmp/lc.csv

Resumable: each (size, seed) is appended to the CSV as it finishes and skipped on rerun. The methods are the
registry's, with their defaults (SurvConvMixer's `pooling='auto'`: a flattened head below about 1,000 labelled
training patients, so at every size here but 2,200); `--pooling average` gives SurvConvMixer and its Conv1D variant
the paper's global average pooling at every size. The committed tables, three demo seeds with the defaults and two
with the paper's pooling (the methods page compares them on the same folds), are what these commands make:

    python scripts/learning_curve.py
    python scripts/learning_curve.py --seeds 0,1 --pooling average --methods SurvConvMixer,SurvConvMixerConv1D --out ...

(`...` = nbs/evidence/learning_curve_average.csv). How they were made: the average-pooling table is the curve
measured before `pooling='auto'` became the default (its two networks' rows; rerunning the second command at
150-1,200 patients on 2026-12-04 gave every AUC bit for bit); the default table takes the baselines' rows of seeds
0 and 1 and every 2,200-patient row of those seeds from that same run (estimators, and at 2,200 a network, that the
switch did not change) and adds a run of the two networks at 150-1,200 patients for seeds 0 and 1 and of every
method for seed 2 (a rerun of seed 0 reproduced the baselines' rows bit for bit).
"""
from __future__ import annotations
import argparse, os, sys, time, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import seed_list, writes_default_out  # noqa: E402 (scripts/_probe.py: argparse helpers)


def one_size(size: int, seed: int, methods: list[str], horizon: float, repeats: int, folds: int, n_jobs: int):
    "Mean IV and EV AUC (and the IPCW AUC) per method for one demo of `size` training patients."
    from survconvmixer.demo import simulate_demo
    from survconvmixer.methods import method_factories
    from survconvmixer.validation import make_problems, run_validation
    demo = simulate_demo(n_train=size, n_external=170, seed=seed)
    problems = make_problems(demo.train, demo.external, {f'{horizon:g}y': horizon}, prefix='demo')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        run = run_validation(problems, method_factories(methods, demo.pathways), n_repeats=repeats, n_splits=folds,
                             seed=seed, n_jobs=n_jobs, progress=False)
    means = run.folds.groupby('method', sort=False)[['iv_auc', 'ev_auc', 'iv_td_auc', 'ev_td_auc', 'seconds']].mean()
    return means.reset_index().assign(size=size, seed=seed, n_labelled=problems[0].summary()['n_train_labelled'])


NETWORKS = ('SurvConvMixer', 'SurvConvMixerConv1D')


def use_pooling(pooling: str):
    "Give the registry's SurvConvMixer and its Conv1D variant `pooling` for the runs of this process."
    from dataclasses import replace
    from functools import partial
    from survconvmixer import methods
    for name in NETWORKS:
        method = methods.METHODS[name]
        methods.METHODS[name] = replace(method, make=partial(method.make, pooling=pooling))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--sizes', default='150,300,600,1200,2200')
    ap.add_argument('--seeds', default='0,1,2', type=seed_list)
    ap.add_argument('--methods', default='SurvConvMixer,SurvConvMixerConv1D,LogisticRegression,CoxNet,RandomForest')
    ap.add_argument('--horizon', type=float, default=3.0)
    ap.add_argument('--repeats', type=int, default=1)
    ap.add_argument('--folds', type=int, default=3)
    ap.add_argument('--n-jobs', type=int, default=2)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'learning_curve.csv'))
    ap.add_argument('--pooling', default=None, choices=('auto', 'average', 'slots', 'flatten'),
                    help="SurvConvMixer's and the Conv1D variant's pooling (default: the package's default)")
    a = ap.parse_args(argv)
    if a.pooling and writes_default_out(ap, a):
        ap.error("--pooling makes another table than the methods page's curve: give it its own --out")
    if a.pooling: use_pooling(a.pooling)
    import pandas as pd
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=['size', 'seed'])
    finished = set(zip(done['size'], done['seed']))
    methods = a.methods.split(',')
    for size in map(int, a.sizes.split(',')):
        for seed in a.seeds:
            if (size, seed) in finished: continue
            start = time.perf_counter()
            rows = one_size(size, seed, methods, a.horizon, a.repeats, a.folds, a.n_jobs)
            rows.to_csv(out, mode='a', header=not out.exists(), index=False)
            best = rows.set_index('method').iv_auc
            print(f"size {size:5d} seed {seed}: {time.perf_counter() - start:5.0f} s; mean IV AUC "
                  + ', '.join(f'{m} {v:.3f}' for m, v in best.items()), flush=True)
    table = pd.read_csv(out).groupby(['size', 'method'])[['iv_auc', 'ev_auc']].agg(['mean', 'std']).round(3)
    print(table.to_string())
    return 0


if __name__ == '__main__':
    sys.exit(main())
