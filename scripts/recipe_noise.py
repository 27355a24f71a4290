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
import os, sys, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import probe_arguments, run_probe, scaled_steps  # noqa: E402 (scripts/_probe.py)

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
            super().__init__(pathways, random_state=random_state, steps=steps, pooling='average')  # the paper's head
            self.input_noise = input_noise

        def _build_network(self, shape, seeds):
            net = super()._build_network(shape, seeds)
            if not self.input_noise: return net
            inputs = keras.Input(shape=shape)
            noisy = keras.layers.GaussianNoise(self.input_noise, seed=self.random_state)(inputs)
            return keras.Model(inputs, net(noisy), name='noisy_survconvmixer')
    return NoisySurvConvMixer


def main(argv=None) -> int:
    ap = probe_arguments(__doc__.splitlines()[1], 'recipe_noise.csv')
    ap.add_argument('--noise', default=','.join(map(str, NOISE)), help='standard deviations to try, beside the recipe')
    a = ap.parse_args(argv)
    warnings.simplefilter('ignore')
    cls, steps = noisy_classifier(), scaled_steps(None, a.steps_scale)
    noise = configs(map(float, a.noise.split(',')))
    run_probe(a, lambda demo: {name: (lambda sd: lambda random_state=0: cls(demo.pathways, sd, random_state, steps))(sd)
                               for name, sd in noise.items()})
    return 0


if __name__ == '__main__':
    sys.exit(main())
