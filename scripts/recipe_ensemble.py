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
import os, sys, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import probe_arguments, run_probe, scaled_steps  # noqa: E402 (scripts/_probe.py)

CONFIGS = {'single (recipe)': dict(members=1, steps=None), 'ensemble of 3': dict(members=3, steps=None),
           'ensemble of 3 x 700 steps': dict(members=3, steps=700)}


def factory(pathways, members: int, steps: int | None):
    "A factory for the engine: one network, or a soft vote of `members` networks with seeds of their own."
    from sklearn.ensemble import VotingClassifier
    from survconvmixer.model import SurvConvMixerClassifier
    extra = {'pooling': 'average', **({} if steps is None else {'steps': steps})}   # the paper's head: measured before 'auto'
    if members == 1: return lambda random_state=0: SurvConvMixerClassifier(pathways, random_state=random_state, **extra)
    return lambda random_state=0: VotingClassifier(
        [(f'm{i}', SurvConvMixerClassifier(pathways, random_state=random_state * 7 + i, **extra)) for i in range(members)],
        voting='soft')


def main(argv=None) -> int:
    a = probe_arguments(__doc__.splitlines()[1], 'recipe_ensemble.csv').parse_args(argv)
    warnings.simplefilter('ignore')
    run_probe(a, lambda demo: {name: factory(demo.pathways, c['members'], scaled_steps(c['steps'], a.steps_scale))
                               for name, c in CONFIGS.items()})
    return 0


if __name__ == '__main__':
    sys.exit(main())
