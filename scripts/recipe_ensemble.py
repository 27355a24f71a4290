#!/usr/bin/env python
"""Does a seed ensemble lift SurvConvMixer at 300 patients? A probe for the small-cohort recipe (issue 19).

On the demo's 300-patient problems at 3 and 5 years (2 x 3-fold CV through the engine, every configuration on the
same folds, demo seeds 0 and 1; IV chooses, EV is only printed): the adopted recipe (one network, 2,000 steps at
batch 16) against a soft-vote ensemble (scikit-learn's `VotingClassifier`) of 3 networks with different seeds,
each with the recipe's 2,000 steps or with 700 (about the single network's budget in all). Every fold goes to
`nbs/evidence/recipe_ensemble.csv`, which the training notebook (04a) tabulates.

    python scripts/recipe_ensemble.py                  # about 50 minutes on 2 cores
"""
from __future__ import annotations
import argparse, os, sys, time, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIGS = {'single (recipe)': dict(members=1, steps=None), 'ensemble of 3': dict(members=3, steps=None),
           'ensemble of 3 x 700 steps': dict(members=3, steps=700)}


def factory(pathways, members: int, steps: int | None):
    "A factory for the engine: one network, or a soft vote of `members` networks with seeds of their own."
    from sklearn.ensemble import VotingClassifier
    from survconvmixer.model import SurvConvMixerClassifier
    extra = {} if steps is None else {'steps': steps}
    if members == 1: return lambda random_state=0: SurvConvMixerClassifier(pathways, random_state=random_state, **extra)
    return lambda random_state=0: VotingClassifier(
        [(f'm{i}', SurvConvMixerClassifier(pathways, random_state=random_state * 7 + i, **extra)) for i in range(members)],
        voting='soft')


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--n-train', type=int, default=300)
    ap.add_argument('--seeds', default='0,1')
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--folds', type=int, default=3)
    ap.add_argument('--steps-scale', type=float, default=1.0, help='multiply every step budget (tiny test runs)')
    ap.add_argument('--n-jobs', type=int, default=2)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'recipe_ensemble.csv'))
    a = ap.parse_args(argv)
    warnings.simplefilter('ignore')
    import pandas as pd
    from survconvmixer.demo import simulate_demo
    from survconvmixer.model import SurvConvMixerClassifier
    from survconvmixer.validation import make_problems, run_validation
    rows = []
    for seed in map(int, a.seeds.split(',')):
        demo = simulate_demo(n_train=a.n_train, n_external=170, seed=seed)
        problems = make_problems(demo.train, demo.external, {'mid': 3.0, 'long': 5.0}, prefix='demo')
        scale = lambda steps: max(1, round((steps or SurvConvMixerClassifier.DEFAULT_STEPS) * a.steps_scale))
        methods = {name: factory(demo.pathways, c['members'], scale(c['steps'])) for name, c in CONFIGS.items()}
        start = time.time()
        folds = run_validation(problems, methods, n_repeats=a.repeats, n_splits=a.folds, n_jobs=a.n_jobs,
                               progress=False).folds
        rows.append(folds.assign(demo_seed=seed))
        print(f"demo seed {seed}: {time.time() - start:.0f} s", file=sys.stderr)
    table = pd.concat(rows, ignore_index=True)
    table.to_csv(a.out, index=False)
    print(table.groupby(['method', 'demo_seed', 'problem'])[['iv_auc', 'ev_auc']].mean().round(3).to_string())
    return 0


if __name__ == '__main__':
    sys.exit(main())
