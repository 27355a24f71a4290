#!/usr/bin/env python
"""Does a head that knows which pathway a patch is lift SurvConvMixer at 300 patients? A probe for the small-cohort recipe (issue 19).

The paper's network pools its last feature map by a global average over the patch slots, so the output layer
sees the mean over pathways of what the shared filters saw: which pathway a response came from is lost, and
the network must recover it from the patches' contents. A linear model on the same genes (0.77 IV AUC at this
size) weighs each pathway's genes on their own. Two heads that keep the slot, against the adopted recipe, on
the demo's 300-patient problems at 3 and 5 years (2 x 3-fold CV through the engine, every configuration on the
same folds as the other probes, demo seeds 0 and 1; IV chooses, EV is only printed):

- slot-weighted pooling: a learned weight per patch slot instead of the average (initialised to the average,
  so it starts as the paper's network; 49 weights for the demo's 7 x 7 grid);
- a flattened head: one output weight per slot and filter (12,544 for the demo at width 256).

Every fold goes to `nbs/evidence/recipe_head.csv`, which the training notebook (04a) tabulates. The committed CSVs
were made with this script's own copy of the two heads, before they became the package's `pooling=` option: the
same networks, with another seed for the output layer's initial weights, so a rerun moves single folds.

    python scripts/recipe_head.py                  # about 25 minutes on 2 cores

More demo seeds of the two heads the package chooses between (`pooling='auto'`), without the slot weights:

    python scripts/recipe_head.py --seeds 2,3,4 --configs average,flatten --out nbs/evidence/recipe_head_seeds.csv
"""
from __future__ import annotations
import argparse, os, sys, warnings
from functools import partial
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import probe_arguments, run_probe, scaled_steps  # noqa: E402 (scripts/_probe.py)

CONFIGS = {'single (recipe)': 'average', 'slot-weighted pooling': 'slots', 'flattened head': 'flatten'}


def head_classifier():
    "The estimator of each configuration: SurvConvMixerClassifier with its `pooling` (model page)."
    from survconvmixer.model import SurvConvMixerClassifier
    return lambda pathways, pooling, random_state=0, steps=None, conv1d=False: SurvConvMixerClassifier(
        pathways, pooling=pooling, random_state=random_state, steps=steps, conv1d=conv1d)


def pooling_list(text: str) -> list[str]:
    "'average,flatten' -> the configurations with those poolings (an argparse type: a wrong name is one usage line)."
    chosen = text.split(',')
    unknown = sorted(set(chosen) - set(CONFIGS.values()))
    if unknown: raise argparse.ArgumentTypeError(f"unknown pooling {unknown}; choose from {', '.join(CONFIGS.values())}")
    return [name for name, pooling in CONFIGS.items() if pooling in chosen]


def main(argv=None) -> int:
    ap = probe_arguments(__doc__.splitlines()[1], 'recipe_head.csv')
    ap.add_argument('--configs', type=pooling_list, default=list(CONFIGS), help='poolings, comma-separated (default: all three)')
    ap.add_argument('--conv1d', action='store_true', help='the Conv1D variant (1-D kernels over the pathway sequence)')
    a = ap.parse_args(argv)
    warnings.simplefilter('ignore')
    cls, steps = head_classifier(), scaled_steps(None, a.steps_scale)
    run_probe(a, lambda demo: {name: partial(cls, demo.pathways, CONFIGS[name], steps=steps, conv1d=a.conv1d)
                       for name in a.configs})
    return 0


if __name__ == '__main__':
    sys.exit(main())
