#!/usr/bin/env python
"""Training recipes for SurvConvMixer at 300 patients: the evidence table of the training page.

Each configuration (SurvConvMixerClassifier parameters) and two reference baselines are validated by the package's
engine on the demo's 300-patient training cohort (3- and 5-year problems, 2 x 3-fold CV, every configuration on the
same folds; demo seeds 0 and 1; the 170-patient external cohort is scored but never used to choose). Every fold
goes to `nbs/evidence/recipe_small_cohort.csv`, which the training notebook (04a) tabulates.

    python scripts/recipe_small_cohort.py                        # about an hour on 2 cores
    python scripts/recipe_small_cohort.py --seeds 0 --out /tmp/recipes.csv
"""
from __future__ import annotations
import argparse, os, sys, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import seed_list  # noqa: E402 (scripts/_probe.py: --seeds as an argparse type)

CONFIGURATIONS = {
    "paper's (early stopping, batch 64, lr 1e-3)": dict(early_stopping=True, batch_size=64, learning_rate=1e-3),
    '2,000 steps, batch 16, lr 3e-3 (adopted)': {},                      # the defaults ('auto') at this size
    '2,000 steps, batch 16, lr 1e-3, weight EMA': dict(early_stopping=False, batch_size=16, steps=2000,
                                                       learning_rate=1e-3, weight_averaging=0.99),
    '2,000 steps, batch 16, lr 3e-3, weight EMA': dict(early_stopping=False, batch_size=16, steps=2000,
                                                       learning_rate=3e-3, weight_averaging=0.99),
    '2,000 steps, batch 16, lr 3e-3, slot embedding': dict(early_stopping=False, batch_size=16, steps=2000,
                                                           learning_rate=3e-3, slot_embedding=True),
    '2,000 steps, batch 16, lr 3e-3, width 64': dict(width=64),
    '2,000 steps, batch 16, lr 3e-3, weight decay 0.1': dict(weight_decay=0.1),
    '2,000 steps, batch 16, lr 3e-3, width 64, weight decay 0.1': dict(width=64, weight_decay=0.1),
}
REFERENCES = ['CoxNet', 'LogisticRegression']


def one_seed(seed: int, n_train: int, n_jobs: int):
    "Every fold of every configuration and reference on the demo of `seed`."
    from survconvmixer.demo import simulate_demo
    from survconvmixer.methods import method_factories
    from survconvmixer.model import SurvConvMixerClassifier
    from survconvmixer.validation import make_problems, run_validation
    demo = simulate_demo(n_train=n_train, n_external=170, seed=seed)
    problems = make_problems(demo.train, demo.external, {'mid': 3.0, 'long': 5.0}, prefix='demo')
    methods = {name: (lambda p: lambda random_state=0: SurvConvMixerClassifier(demo.pathways, random_state=random_state,
                                                                                **{'pooling': 'average', **p}))(params)
               for name, params in CONFIGURATIONS.items()}
    methods.update({f'{m} (reference)': f for m, f in method_factories(REFERENCES, demo.pathways).items()})
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        run = run_validation(problems, methods, n_repeats=2, n_splits=3, n_jobs=n_jobs, progress=False)
    folds = run.folds.rename(columns={'method': 'configuration'}).assign(demo_seed=seed)
    return folds[['configuration', 'demo_seed', 'problem', 'repeat', 'fold', 'iv_auc', 'ev_auc', 'iv_td_auc', 'seconds']]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--seeds', default='0,1', type=seed_list)
    ap.add_argument('--n-train', type=int, default=300)
    ap.add_argument('--n-jobs', type=int, default=2)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'recipe_small_cohort.csv'))
    a = ap.parse_args(argv)
    import pandas as pd
    table = pd.concat([one_seed(s, a.n_train, a.n_jobs) for s in a.seeds], ignore_index=True)
    table.to_csv(a.out, index=False)
    print(table.groupby(['configuration', 'demo_seed', 'problem'], sort=False).iv_auc.mean()
          .unstack(['demo_seed', 'problem']).round(3).to_string())
    return 0


if __name__ == '__main__':
    sys.exit(main())
