#!/usr/bin/env python
"""What early stopping watches on the inner split at 2,200 patients: its loss (the default) or its AUC.

The quick preset's problems (1, 3 and 5 years, 1 x 3-fold CV, demo seeds 0 and 1), SurvConvMixer with the default
recipe (early stopping on the inner split's loss), with the loss smoothed across epochs, and with the inner split's
AUC as the monitor, all on the same folds. Every fold goes to `nbs/evidence/recipe_monitor.csv`, which the training
notebook (04a) tabulates.

    python scripts/recipe_monitor.py                        # about 15 minutes on 2 cores
"""
from __future__ import annotations
import argparse, dataclasses, os, sys, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import seed_list  # noqa: E402 (scripts/_probe.py: --seeds as an argparse type)


def methods(pathways) -> dict:
    "The three monitors, as factories for the validation engine."
    from survconvmixer.model import SurvConvMixerClassifier

    class AucMonitor(SurvConvMixerClassifier):
        "SurvConvMixer stopping on the inner split's AUC instead of its loss."
        def _recipe(self, n_samples):
            return dataclasses.replace(super()._recipe(n_samples), monitor='val_auc')

    return {'val_loss (default)': lambda random_state=0: SurvConvMixerClassifier(pathways, pooling='average', random_state=random_state),
            'val_loss smoothed 0.5': lambda random_state=0: SurvConvMixerClassifier(pathways, smoothing=0.5, pooling='average',
                                                                                    random_state=random_state),
            'val_auc': lambda random_state=0: AucMonitor(pathways, pooling='average', random_state=random_state)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--seeds', default='0,1', type=seed_list)
    ap.add_argument('--n-train', type=int, default=2200)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'recipe_monitor.csv'))
    a = ap.parse_args(argv)
    import pandas as pd
    from survconvmixer.demo import simulate_demo
    from survconvmixer.validation import make_problems, run_validation
    out = []
    for seed in a.seeds:
        demo = simulate_demo(n_train=a.n_train, n_external=170, seed=seed)
        problems = make_problems(demo.train, demo.external, {'short': 1.0, 'mid': 3.0, 'long': 5.0}, prefix='demo')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            run = run_validation(problems, methods(demo.pathways), n_repeats=1, n_splits=3, progress=False)
        out.append(run.folds.assign(demo_seed=seed))
    table = pd.concat(out, ignore_index=True)
    table.to_csv(a.out, index=False)
    print(table.groupby(['method', 'demo_seed', 'problem'], sort=False).iv_auc.mean()
          .unstack(['demo_seed', 'problem']).round(3).to_string())
    return 0


if __name__ == '__main__':
    sys.exit(main())
