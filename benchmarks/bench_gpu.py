#!/usr/bin/env python
"""Training speed of the package's networks under any Keras 3 backend: TensorFlow on this CPU, or JAX on a GPU.

Why a second backend: the package trains with TensorFlow, and TensorFlow's CUDA build cannot always be installed
where a GPU is (the GPU machine lent to this project reaches no package registry and takes at most 64 MiB of
carried files; TensorFlow's wheel alone is 620 MB, before its CUDA libraries). Keras 3 runs the same network
definitions on JAX, which that machine has. So this script measures the package's own networks, built by the
package's own builders at paper settings, with plain Keras layers (`fused=False`: the fused layers are TensorFlow
code), trained by `model.fit` with each method's recipe (batch size, AdamW, balanced class weights, the inner
early-stopping split as validation data, scored in batches of 256 as the package does, an AUC metric). It is not
the `survconvmixer` command (that needs TensorFlow): it tells a GPU user what a GPU does to the networks'
training, the part of the protocol a GPU can speed up.

Per network and batch size, on the demo's 3-year training images: the first epoch (tracing and compilation, paid
once per architecture by the package's reused networks), the steady epoch (median of the others, validation
included), its training part (`train_s` = the steady epoch less a validation pass timed apart after the fit:
ms per step and µs per image come from it), and a fit at the recipe's epoch cap = first + (cap - 1) x steady (early stopping ends most fits sooner).
`--batch 64 512 3200` replaces the recipes' batch size by each of these in turn, in one process: a probe of how
many images a step can take before the device is full, not a recipe the package uses.

    python benchmarks/bench_gpu.py                              # this machine, TensorFlow backend
    KERAS_BACKEND=jax python benchmarks/bench_gpu.py --csv g.csv  # e.g. a GPU machine with JAX's CUDA build

It asserts nothing: it prints this machine's numbers (and writes them with `--csv`).
"""
from __future__ import annotations
import argparse, dataclasses, importlib.util, os, statistics, sys, time, types
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(HERE.parent))      # bench_training's demo problem
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

NETWORKS = {  # row -> (method, paper-setting parameters beyond the method's defaults)
    'SurvConvMixer': ('SurvConvMixer', dict(fused=False)),
    'SurvConvMixer bf16': ('SurvConvMixer', dict(fused=False, precision='mixed_bfloat16')),
    'SurvConvMixerConv1D': ('SurvConvMixerConv1D', dict(fused=False)),
    'GeneExpImgTL': ('GeneExpImgTL', {}),
    'PathCNN': ('PathCNN', {}),
}


def import_package_modules() -> bool:
    """Import the package's modules this script uses; where TensorFlow is not installed (Keras on JAX), through a
    stand-in `tensorflow` module present only while they import: its `tf.function` decorator does nothing and every
    other attribute is missing, so anything that would need TensorFlow fails with an AttributeError naming it. (Keras
    itself must not see the stand-in: it looks TensorFlow up lazily, e.g. to seed it.) True if the stand-in was used."""
    import keras  # noqa: F401  (imported before any stand-in exists)
    stand_in = importlib.util.find_spec('tensorflow') is None
    if stand_in:
        class Missing(types.ModuleType):
            def __getattr__(self, name):
                if name == 'function':   # @tf.function and @tf.function(...) leave the function as it is
                    return lambda f=None, **kwargs: f if callable(f) else (lambda g: g)
                raise AttributeError(f"tensorflow.{name}: TensorFlow is not installed (Keras runs on "
                                     f"{keras.backend.backend()} in this script)")
        sys.modules['tensorflow'] = Missing('tensorflow')
    try:
        import survconvmixer.data, survconvmixer.demo, survconvmixer.labelling  # noqa: F401
        import survconvmixer.methods, survconvmixer.training  # noqa: F401
    finally:
        if stand_in: del sys.modules['tensorflow']
    return stand_in


def device_line() -> str:
    "The backend and the device it computes on."
    import keras
    backend = keras.backend.backend()
    if backend == 'jax':
        import jax
        devices = jax.devices()
        return f"Keras {keras.__version__} on JAX {jax.__version__}: {devices[0].device_kind} x{len(devices)}"
    if backend == 'tensorflow':
        import tensorflow as tf
        gpus = tf.config.list_physical_devices('GPU')
        return f"Keras {keras.__version__} on TensorFlow {tf.__version__}: {f'{len(gpus)} GPU' if gpus else f'CPU, {os.cpu_count()} cores'}"
    return f"Keras {keras.__version__} on {backend}"


def demo_training_set(n_patients: int | None) -> tuple:
    "The demo's pathways, the min-max scaled training expression and the 3-year labels as 0/1 (rows aligned)."
    from bench_training import demo_problem
    demo, _, X, labels = demo_problem(**({'n_train': n_patients} if n_patients else {}))
    return demo.pathways, X, labels.to_numpy().astype(int)


def epoch_timer():
    "A Keras callback that records each epoch's seconds (`epoch_s`, validation pass included)."
    import keras
    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch_s = []
        def on_epoch_begin(self, epoch, logs=None): self.start = time.perf_counter()
        def on_epoch_end(self, epoch, logs=None): self.epoch_s.append(time.perf_counter() - self.start)
    return EpochTimer()


def validation_seconds(model, validation, repeats: int = 3) -> float:
    """Median seconds of one validation pass as `fit` runs it (batches of 256), timed apart after the fit: the
    backend may still be running an epoch's training steps when its validation pass starts (JAX dispatches them
    asynchronously), so the two cannot be told apart inside the epoch."""
    if validation is None: return 0.0
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.evaluate(*validation, batch_size=256, verbose=0)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def time_network(row: str, pathways, X, y, epochs: int, batch_size: int | None = None) -> dict:
    """Seconds of one network trained by its method's recipe for `epochs` epochs (>= 2): the first epoch, the
    steady epoch and its training part; `batch_size` replaces the recipe's (a probe, not a recipe of the package)."""
    import keras
    from survconvmixer.methods import get_method
    from survconvmixer.training import LayerSeeds, balanced_weights, inner_split
    method, params = NETWORKS[row]
    est = get_method(method)(pathways, random_state=0, **params)
    inputs = est._fit_inputs(X, y).astype('float32')
    recipe = est._recipe(len(y))
    if batch_size: recipe = dataclasses.replace(recipe, batch_size=batch_size)
    fit_rows, held = inner_split(y, recipe.validation_fraction, 0)
    targets = y.astype('float32')
    weights = balanced_weights(targets[fit_rows]) if recipe.class_weight == 'balanced' else None
    keras.utils.set_random_seed(0)
    model = est._build_network(inputs.shape[1:], LayerSeeds(0))
    model.compile(optimizer=recipe.optimizer(), loss='binary_crossentropy', metrics=[keras.metrics.AUC(name='auc')])
    timer = epoch_timer()
    validation = (inputs[held], targets[held]) if len(held) else None
    model.fit(inputs[fit_rows], targets[fit_rows], sample_weight=weights, batch_size=recipe.batch_size,
              epochs=epochs, validation_data=validation, validation_batch_size=256, shuffle=True,
              callbacks=[timer], verbose=0)
    steady = statistics.median(timer.epoch_s[1:])
    train = max(steady - validation_seconds(model, validation), 0.0)
    cap = recipe.n_epochs(len(fit_rows))
    steps = -(-len(fit_rows) // recipe.batch_size)
    return {'network': row, 'input': 'x'.join(map(str, inputs.shape[1:])), 'fit_patients': len(fit_rows),
            'held_patients': len(held), 'batch': recipe.batch_size, 'steps_per_epoch': steps,
            'first_epoch_s': timer.epoch_s[0], 'epoch_s': steady, 'train_s': train,
            'ms_per_step': 1000 * train / steps, 'us_per_image': 1e6 * train / len(fit_rows),
            'epoch_cap': cap, 'fit_at_cap_s': timer.epoch_s[0] + (cap - 1) * steady}


def main(argv: list[str] | None = None):
    "Time the chosen networks (at each chosen batch size) and print, and optionally write, the table."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--networks', nargs='+', choices=list(NETWORKS), default=list(NETWORKS), metavar='NAME',
                    help=f"networks to time (default all: {', '.join(NETWORKS)})")
    ap.add_argument('--epochs', type=int, default=4, help='epochs per network, the first timed apart (default 4)')
    ap.add_argument('--patients', type=int, help="the demo's training patients (default the demo's 2,200)")
    ap.add_argument('--batch', type=int, nargs='+', help="replace every recipe's batch size by each of these in "
                    "turn (a probe: not the paper's recipe)")
    ap.add_argument('--csv', type=Path, help='also write the table here')
    args = ap.parse_args(argv)
    if args.epochs < 2: ap.error('--epochs must be at least 2 (the first epoch is timed apart)')
    if args.patients is not None and args.patients < 100: ap.error('--patients must be at least 100')
    if args.batch is not None and min(args.batch) < 1: ap.error('--batch must be at least 1')
    stand_in = import_package_modules()
    import pandas as pd
    print(device_line() + (' (TensorFlow not installed: a stand-in module lets the package import)' if stand_in else ''))
    pathways, X, y = demo_training_set(args.patients)
    print(f"demo 3-year problem: {len(y)} labelled training patients; {args.epochs} epochs per network", flush=True)
    rows = []
    for row in args.networks:
        for batch in args.batch or [None]:
            r = time_network(row, pathways, X, y, args.epochs, batch)
            rows.append(r)
            print(f"   {row:20s} first epoch {r['first_epoch_s']:6.2f} s, then {r['epoch_s']:6.3f} s per epoch, "
                  f"{r['train_s']:6.3f} s of it training ({r['ms_per_step']:.1f} ms per step of {r['batch']}, "
                  f"{r['us_per_image']:.1f} µs per image); a fit at the cap of {r['epoch_cap']} epochs "
                  f"<= {r['fit_at_cap_s']:.0f} s", flush=True)
    table = pd.DataFrame(rows).set_index('network')
    print(table.round(3).to_string())
    if args.csv: table.to_csv(args.csv)


if __name__ == '__main__':
    main()
