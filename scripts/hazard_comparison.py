#!/usr/bin/env python
"""SurvConvMixerHazard against SurvConvMixer on the same folds: the evidence table of the hazard page.

The package's validation engine runs the censoring-aware model (both heads), the binary SurvConvMixer and the two
survival baselines on the demo (3- and 5-year problems, 2 x 3-fold CV, every method on the same folds, demo seeds 0 and 1;
the 170-patient external cohort is scored too) at each training size. Every fold goes to
`nbs/evidence/hazard_comparison.csv`, which the hazard notebook (04b) tabulates with paired intervals.

    python scripts/hazard_comparison.py                        # about 30 minutes on 2 cores
    python scripts/hazard_comparison.py --sizes 300 --seeds 0 --out /tmp/hazard.csv
"""
from __future__ import annotations
import argparse, os, sys, warnings
from functools import partial
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import seed_list  # noqa: E402 (scripts/_probe.py: --seeds as an argparse type)

METHODS = ['SurvConvMixer', 'SurvConvMixerHazard', 'CoxNet', 'RandomSurvivalForest']
VARIANTS = {'SurvConvMixerHazard, flexible head': dict(head='flexible')}     # SurvConvMixerHazard parameters
COLUMNS = ['method', 'n_train_cohort', 'demo_seed', 'problem', 'repeat', 'fold', 'n_train', 'iv_auc', 'iv_td_auc',
           'iv_c_uno', 'iv_brier', 'ev_auc', 'ev_td_auc', 'seconds']


def one_run(size: int, seed: int, n_jobs: int, methods: list[str]):
    "Every fold of every method on the demo of `seed` with `size` training patients."
    from survconvmixer.demo import simulate_demo
    from survconvmixer.methods import method_factories
    from survconvmixer.validation import make_problems, run_validation
    demo = simulate_demo(n_train=size, n_external=170, seed=seed)
    from survconvmixer.hazard import SurvConvMixerHazard
    problems = make_problems(demo.train, demo.external, {'mid': 3.0, 'long': 5.0}, prefix='demo')
    factories = method_factories([m for m in methods if m not in VARIANTS], demo.pathways)
    if 'SurvConvMixer' in factories:   # the committed table's binary network: the paper's pooling, as before 'auto'
        factories['SurvConvMixer'] = partial(factories['SurvConvMixer'], pooling='average')
    for name in [m for m in methods if m in VARIANTS]:
        factories[name] = (lambda p: lambda random_state=0: SurvConvMixerHazard(demo.pathways, random_state=random_state,
                                                                                 **p))(VARIANTS[name])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        run = run_validation(problems, factories, n_repeats=2, n_splits=3, n_jobs=n_jobs, progress=False)
    return run.folds.assign(n_train_cohort=size, demo_seed=seed)[COLUMNS]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--sizes', default='300')
    ap.add_argument('--seeds', default='0,1', type=seed_list)
    ap.add_argument('--methods', default=','.join(METHODS + list(VARIANTS)))
    ap.add_argument('--n-jobs', type=int, default=2)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'hazard_comparison.csv'))
    a = ap.parse_args(argv)
    import pandas as pd
    runs = [one_run(int(n), s, a.n_jobs, a.methods.split(','))
            for n in a.sizes.split(',') for s in a.seeds]
    table = pd.concat(runs, ignore_index=True)
    table.to_csv(a.out, index=False)
    print(table.groupby(['method', 'n_train_cohort', 'demo_seed', 'problem'], sort=False).iv_auc.mean()
          .unstack(['n_train_cohort', 'demo_seed', 'problem']).round(3).to_string())
    return 0


if __name__ == '__main__':
    sys.exit(main())
