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

Every fold goes to `nbs/evidence/recipe_head.csv`, which the training notebook (04a) tabulates.

    python scripts/recipe_head.py                  # about 25 minutes on 2 cores
"""
from __future__ import annotations
import os, sys, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import probe_arguments, run_probe, scaled_steps  # noqa: E402 (scripts/_probe.py)

CONFIGS = {'single (recipe)': 'pool', 'slot-weighted pooling': 'slots', 'flattened head': 'flatten'}


def head_classifier():
    "SurvConvMixerClassifier with a `head` parameter: 'pool' (the paper's), 'slots' or 'flatten'."
    import keras
    import numpy as np
    from survconvmixer.model import SurvConvMixerClassifier

    class SlotPooling(keras.layers.Layer):
        "(batch, rows, cols, channels) -> (batch, channels): a learned weight per slot, started at the average."
        def __init__(self, keep, **kwargs):
            super().__init__(**kwargs)
            self.keep = np.asarray(keep, dtype='float32')
        def build(self, shape):
            start = self.keep / self.keep.size     # GlobalAveragePooling2D: blank slots (zero) count too
            self.slot_weight = self.add_weight(shape=self.keep.shape, name='slot_weight',
                                               initializer=keras.initializers.Constant(start))
        def call(self, x):
            return keras.ops.einsum('bhwc,hw->bc', x, self.slot_weight)
        def get_config(self):
            return {**super().get_config(), 'keep': self.keep.tolist()}

    class HeadSurvConvMixer(SurvConvMixerClassifier):
        def __init__(self, pathways=None, head: str = 'pool', random_state=0, steps=None):
            super().__init__(pathways, random_state=random_state, steps=steps)
            self.head = head

        def _build_network(self, shape, seeds):
            net = super()._build_network(shape, seeds)
            if self.head == 'pool': return net
            features = net.get_layer('blank_mask').output          # (batch, rows, cols, width), blank slots zero
            if self.head == 'slots':
                pooled = SlotPooling((~self.layout_.blank_slots).astype('float32'), name='slot_pool')(features)
            else:
                pooled = keras.layers.Flatten(name='slots')(features)
            init = keras.initializers.GlorotUniform(seed=None if self.random_state is None else self.random_state + 7919)
            logit = keras.layers.Dense(1, name='head_logit', kernel_initializer=init)(pooled)
            return keras.Model(net.inputs, keras.layers.Activation('sigmoid', name='head_probability')(logit),
                               name=f'survconvmixer_{self.head}')
    return HeadSurvConvMixer


def main(argv=None) -> int:
    a = probe_arguments(__doc__.splitlines()[1], 'recipe_head.csv').parse_args(argv)
    warnings.simplefilter('ignore')
    cls, steps = head_classifier(), scaled_steps(None, a.steps_scale)
    run_probe(a, lambda demo: {name: (lambda h: lambda random_state=0: cls(demo.pathways, h, random_state, steps))(head)
                               for name, head in CONFIGS.items()})
    return 0


if __name__ == '__main__':
    sys.exit(main())
