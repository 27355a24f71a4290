#!/usr/bin/env python
"""Does input noise (Gaussian, on the scaled images while training) lift SurvConvMixer at 300 patients? A probe for
the small-cohort recipe (issue 19).

On the demo's 300-patient problems at 3 and 5 years (2 x 3-fold CV through the engine, every configuration on the
same folds, demo seeds 0 and 1; IV chooses, EV is only printed): the adopted recipe (one network, 2,000 steps at
batch 16) against the same network with a Keras `GaussianNoise` layer before the embedding (active only while
training; the inputs are min-max scaled genes in [0, 1]) of standard deviation 0.05 to 0.5 (`--noise`). Every fold goes to
`nbs/evidence/recipe_noise.csv`, which the training notebook (04a) tabulates.

    python scripts/recipe_noise.py                  # about 15 minutes on 2 cores
"""
from __future__ import annotations
import argparse, os, sys, time, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOISE = (0.05, 0.15, 0.3, 0.5)


def configs(noise=NOISE) -> dict[str, float]:
    "Configuration name -> the standard deviation of the input noise (0: the adopted recipe)."
    return {'single (recipe)': 0.0, **{f'input noise {s:g}': float(s) for s in noise}}


def noisy_classifier():
    "SurvConvMixerClassifier with an `input_noise` parameter: a GaussianNoise layer in front of the network."
    import keras
    from survconvmixer.model import SurvConvMixerClassifier

    class NoisySurvConvMixer(SurvConvMixerClassifier):
        def __init__(self, pathways=None, input_noise: float = 0.0, random_state=0, steps=None):
            super().__init__(pathways, random_state=random_state, steps=steps)
            self.input_noise = input_noise

        def _build_network(self, shape, seeds):
            net = super()._build_network(shape, seeds)
            if not self.input_noise: return net
            inputs = keras.Input(shape=shape)
            noisy = keras.layers.GaussianNoise(self.input_noise, seed=self.random_state)(inputs)
            return keras.Model(inputs, net(noisy), name='noisy_survconvmixer')
    return NoisySurvConvMixer


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--n-train', type=int, default=300)
    ap.add_argument('--seeds', default='0,1')
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--folds', type=int, default=3)
    ap.add_argument('--steps-scale', type=float, default=1.0, help='multiply the step budget (tiny test runs)')
    ap.add_argument('--noise', default=','.join(map(str, NOISE)), help='standard deviations to try, beside the recipe')
    ap.add_argument('--n-jobs', type=int, default=2)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'recipe_noise.csv'))
    a = ap.parse_args(argv)
    warnings.simplefilter('ignore')
    import pandas as pd
    from survconvmixer.demo import simulate_demo
    from survconvmixer.model import SurvConvMixerClassifier
    from survconvmixer.validation import make_problems, run_validation
    cls = noisy_classifier()
    steps = max(1, round(SurvConvMixerClassifier.DEFAULT_STEPS * a.steps_scale))
    rows = []
    for seed in map(int, a.seeds.split(',')):
        demo = simulate_demo(n_train=a.n_train, n_external=170, seed=seed)
        problems = make_problems(demo.train, demo.external, {'mid': 3.0, 'long': 5.0}, prefix='demo')
        methods = {name: (lambda noise: lambda random_state=0: cls(demo.pathways, noise, random_state, steps))(noise)
                   for name, noise in configs(map(float, a.noise.split(','))).items()}
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
