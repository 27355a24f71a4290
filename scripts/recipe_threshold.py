#!/usr/bin/env python
"""Where early stopping starts to beat the step budget: SurvConvMixer at 1,200 and 2,200 demo patients.

The two recipes of the training page, each fixed by hand, on the demo's 3-year problem (1 x 3-fold CV through the
engine, both recipes on the same folds, demo seeds 0 and 1; IV only). Every fold goes to
`nbs/evidence/recipe_threshold.csv`, which the training notebook (04a) tabulates; it sets `MIN_INNER_SPLIT`.

    python scripts/recipe_threshold.py                 # about 5 minutes on 2 cores
"""
from __future__ import annotations
import argparse, os, sys, time, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import seed_list  # noqa: E402 (scripts/_probe.py: --seeds as an argparse type)

CONFIGS = {'early stopping (batch 64, lr 1e-3)': dict(early_stopping=True, batch_size=64, learning_rate=1e-3),
           'step budget (2,000 steps, batch 16, lr 3e-3)': dict(early_stopping=False, batch_size=16, steps=2000,
                                                                learning_rate=3e-3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--sizes', default='1200,2200')
    ap.add_argument('--seeds', default='0,1', type=seed_list)
    ap.add_argument('--n-jobs', type=int, default=2)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'recipe_threshold.csv'))
    a = ap.parse_args(argv)
    import pandas as pd
    from survconvmixer.demo import simulate_demo
    from survconvmixer.model import SurvConvMixerClassifier
    from survconvmixer.validation import make_problems, run_validation
    rows = []
    for size in map(int, a.sizes.split(',')):
        for seed in a.seeds:
            demo = simulate_demo(n_train=size, n_external=170, seed=seed)
            problems = make_problems(demo.train, demo.external, {'3y': 3.0}, prefix='demo')
            methods = {k: (lambda p: lambda random_state=0: SurvConvMixerClassifier(
                demo.pathways, random_state=random_state, **{'pooling': 'average', **p}))(v) for k, v in CONFIGS.items()}
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                folds = run_validation(problems, methods, n_repeats=1, n_splits=3, seed=seed, n_jobs=a.n_jobs,
                                       progress=False).folds
            rows.append(folds.assign(size=size, demo_seed=seed))
            print(size, seed, f'{time.perf_counter() - start:.0f} s', folds.groupby('method').iv_auc.mean().round(3).to_dict(),
                  flush=True)
    pd.concat(rows).to_csv(a.out, index=False)
    return 0


if __name__ == '__main__':
    sys.exit(main())
