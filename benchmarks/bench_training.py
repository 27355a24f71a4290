#!/usr/bin/env python
"""Training throughput of SurvConvMixer on this machine's CPU, against the machine's own dense-GEMM peak.

One run prints
  1. the model's training FLOPs per sample (analytic count, cross-checked with TensorFlow's graph profiler);
  2. the machine's measured dense-GEMM FLOP/s (float32 and bfloat16 `tf.matmul`, best of several);
  3. a table of training configurations (each in a fresh subprocess, so environment variables and TensorFlow's
     global settings cannot leak between them): samples/s, speed-up over the plain-Keras baseline and
     training efficiency = achieved model FLOP/s / GEMM peak;
  4. held-out AUC of the scikit-learn estimator `SurvConvMixerClassifier` trained with the baseline layers, with
     its float32 default, with `precision='bfloat16_pointwise'` and with that in an environment with 512-bit XLA
     vectors, on the same demo splits and seeds (early stopping as the estimator does it). `bench_precision.py`
     measures the bfloat16 option's AUC on many more folds, against the noise of a new seed;
  5. with `--ceiling`, what the machine's cores give a configuration's arithmetic when nothing waits: one fit per
     core, two (or `os.cpu_count()`) fits at once in separate single-thread processes, their samples/s added up,
     against one single-thread fit alone and the single multi-thread fit of section 3 (an estimate of the most a
     single fit could reach through threading, and of how far its intra-op parallelism is from it).

The headline compares four configurations, interleaved over rounds: the plain Keras `fit` of the Keras layers
(baseline); the estimator's float32 default (the package's fused layers fed by `model.batches`: the same
mathematics); the same with `precision='bfloat16_pointwise'` (the 1x1 pointwise convolutions' products in
bfloat16, everything else float32); and that again in a process started with
`XLA_FLAGS=--xla_cpu_prefer_vector_width=512` (XLA's CPU compiler then uses 512-bit vectors in the GELU +
batch-norm kernels instead of its default 256: an environment setting a user chooses, not a package default).

It is a benchmark, not a test: it asserts nothing about this machine's numbers, it only reports them.

    python benchmarks/bench_training.py --quick      # ~5 minutes on 2 cores: the headline, 3 AUC seeds
    python benchmarks/bench_training.py              # everything, 10 AUC seeds (~30 minutes on 2 shared cores)
    python benchmarks/bench_training.py --only baseline,fused+matmul+tfdata --no-auc
    python benchmarks/bench_training.py --quick --no-auc --ceiling

FLOP convention: a multiply-accumulate is 2 FLOPs; only convolutions and the dense layer are counted (the
elementwise GELU / batch-norm / residual work is not "model FLOPs"); training = 3 x forward (forward pass,
gradient w.r.t. activations, gradient w.r.t. weights), the usual convention. The exact count (no input gradient
for the first layer) is printed beside it.
"""
from __future__ import annotations
import argparse, json, math, os, statistics, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1]))  # run from a checkout without installing

# ----------------------------------------------------------------------------------------------------------------
# Configurations. Every field is a knob that leaves the model's mathematics unchanged (precision aside: its AUC
# effect is measured). `layers='keras'` builds the plain Keras layers (`build_survconvmixer(..., fused=False)`),
# `layers='fused+matmul'` the package's default layers: GeluBatchNorm (GELU + batch norm, one XLA kernel each way)
# and tiling convolutions as matrix products (`fused=True`, the same mathematics).
BASE = dict(batch_size=64, steps_per_execution=1, pipeline='numpy', intra=None, inter=None, env={},
            precision='float32', layers='keras', auc_metric=True, jit=False)

def config(what: str, **changes) -> dict:
    unknown = set(changes) - set(BASE)
    if unknown: raise ValueError(f"unknown configuration fields {sorted(unknown)}")
    return {**BASE, **changes, 'what': what}

WIDE_XLA_VECTORS = {'XLA_FLAGS': '--xla_cpu_prefer_vector_width=512'}  # XLA's CPU default is 256-bit vectors

CONFIGS = {
    'baseline': config('plain model.fit(x, y, batch_size=64), float32, default threading'),
    'bs32': config('batch size 32', batch_size=32),
    'bs128': config('batch size 128', batch_size=128),
    'bs256': config('batch size 256', batch_size=256),
    'bs1024': config('batch size 1024', batch_size=1024),
    'spe16': config('compile(steps_per_execution=16)', steps_per_execution=16),
    'tfdata': config('tf.data: cache, shuffle, batch, prefetch', pipeline='tfdata'),
    'no-auc-metric': config('no AUC metric in compile', auc_metric=False),
    'intra1-inter1': config('1 intra-op, 1 inter-op thread', intra=1, inter=1),
    'intra2-inter1': config('2 intra-op, 1 inter-op thread', intra=2, inter=1),
    'intra1-inter2': config('1 intra-op, 2 inter-op threads', intra=1, inter=2),
    'omp-kmp': config('OMP_NUM_THREADS=2 KMP_BLOCKTIME=0 KMP_AFFINITY=granularity=fine,compact',
                      env={'OMP_NUM_THREADS': '2', 'KMP_BLOCKTIME': '0', 'KMP_AFFINITY': 'granularity=fine,compact'}),
    'onednn-off': config('TF_ENABLE_ONEDNN_OPTS=0 (Eigen kernels)', env={'TF_ENABLE_ONEDNN_OPTS': '0'}),
    'fpmath-bf16': config('ONEDNN_DEFAULT_FPMATH_MODE=BF16: float32 convs on AMX-bf16',
                          env={'ONEDNN_DEFAULT_FPMATH_MODE': 'BF16'}),
    'mixed-bf16': config("precision='mixed_bfloat16' (Keras policy)", precision='mixed_bfloat16'),
    'xla': config('compile(jit_compile=True)', jit=True),
    'fused+matmul': config('package default layers: fused GELU+BN, embedding + 1x1 convs as matmuls',
                           layers='fused+matmul'),
    'fused+matmul+tfdata': config('fused+matmul, tf.data cache/shuffle/batch/prefetch', layers='fused+matmul',
                                  pipeline='tfdata'),
    'fused+matmul+spe16': config('fused+matmul, steps_per_execution=16', layers='fused+matmul',
                                 steps_per_execution=16),
    'fused+matmul+i1e2': config('fused+matmul, 1 intra-op, 2 inter-op threads', layers='fused+matmul',
                                intra=1, inter=2),
    'fused+matmul+bs128': config('fused+matmul, batch size 128', layers='fused+matmul', batch_size=128),
    'fused+matmul+bs256': config('fused+matmul, batch size 256', layers='fused+matmul', batch_size=256),
    'fused+matmul+tfdata+bs128': config('fused+matmul, tf.data, batch size 128', layers='fused+matmul',
                                        pipeline='tfdata', batch_size=128),
    'fused+matmul+mixed-bf16': config("fused+matmul, precision='mixed_bfloat16'", layers='fused+matmul',
                                      precision='mixed_bfloat16'),
    'fused+matmul+bf16math': config('fused+matmul, ONEDNN_DEFAULT_FPMATH_MODE=BF16', layers='fused+matmul',
                                    env={'ONEDNN_DEFAULT_FPMATH_MODE': 'BF16'}),
    'fused+matmul+batches': config("the estimator's float32 default: fused+matmul, model.batches pipeline",
                                   layers='fused+matmul', pipeline='batches'),
    'fused+matmul+batches+bf16pw': config("the estimator with precision='bfloat16_pointwise': 1x1-conv products "
                                          "in bfloat16", layers='fused+matmul', pipeline='batches',
                                          precision='bfloat16_pointwise'),
    'bf16pw+spe16': config("bfloat16_pointwise, model.batches, steps_per_execution=16", layers='fused+matmul',
                           pipeline='batches', precision='bfloat16_pointwise', steps_per_execution=16),
    'bf16pw+no-auc-metric': config("bfloat16_pointwise, model.batches, no AUC metric", layers='fused+matmul',
                                   pipeline='batches', precision='bfloat16_pointwise', auc_metric=False),
    'bf16pw+bs32': config("bfloat16_pointwise, model.batches, batch size 32", layers='fused+matmul',
                          pipeline='batches', precision='bfloat16_pointwise', batch_size=32),
    'bf16pw+bs128': config("bfloat16_pointwise, model.batches, batch size 128", layers='fused+matmul',
                           pipeline='batches', precision='bfloat16_pointwise', batch_size=128),
    'bf16pw+bs256': config("bfloat16_pointwise, model.batches, batch size 256", layers='fused+matmul',
                           pipeline='batches', precision='bfloat16_pointwise', batch_size=256),
    'bf16pw+inter4': config("bfloat16_pointwise, model.batches, 4 inter-op threads", layers='fused+matmul',
                            pipeline='batches', precision='bfloat16_pointwise', inter=4),
    'bf16pw+xla512': config("the same, run with XLA_FLAGS=--xla_cpu_prefer_vector_width=512 (the user's environment: "
                            "512-bit vectors in the GELU + batch-norm kernels)", layers='fused+matmul',
                            pipeline='batches', precision='bfloat16_pointwise', env=WIDE_XLA_VECTORS),
    'bf16pw+i1e2': config("bfloat16_pointwise, model.batches, 1 intra-op, 2 inter-op threads",
                          layers='fused+matmul', pipeline='batches', precision='bfloat16_pointwise', intra=1, inter=2),
}
RECOMMENDED = 'fused+matmul+batches'       # the estimator's default (float32): identical mathematics
FASTEST = 'fused+matmul+batches+bf16pw'    # the estimator with precision='bfloat16_pointwise'
WIDE = 'bf16pw+xla512'                      # the same in an environment with XLA_FLAGS for 512-bit vectors
HEADLINE = ['baseline', RECOMMENDED, FASTEST, WIDE]

# ----------------------------------------------------------------------------------------------------------------
# FLOPs
def model_flops(image_side: int, patch_side: int, width: int = 256, depth: int = 2, kernel_size: int = 3) -> dict:
    "Multiply-accumulates per sample of the 2-D SurvConvMixer's convolutions and dense layer, and FLOPs from them."
    slots = (image_side // patch_side) ** 2
    macs = {'embedding': slots * patch_side ** 2 * width,          # p x p conv, stride p, 1 -> width channels
            'depthwise': depth * slots * kernel_size ** 2 * width,  # k x k depthwise, 'same' padding
            'pointwise': depth * slots * width * width,             # 1 x 1 conv width -> width
            'dense': width}
    forward = 2 * sum(macs.values())
    return {'macs': macs, 'forward': forward, 'training': 3 * forward,
            'training_exact': 3 * forward - 2 * macs['embedding']}  # no gradient w.r.t. the input image

def profiler_flops(layout, batch: int = 64) -> dict:
    "TensorFlow's graph profiler: FLOPs per sample of the forward graph and of the gradient graph, by op type."
    import tensorflow as tf
    from tensorflow.python.framework import ops as tf_ops
    from survconvmixer.model import build_survconvmixer
    model = build_survconvmixer(layout)
    spec = tf.TensorSpec([batch, *layout.image_shape], tf.float32)
    def counted(graph):
        by_type = {}
        for op in graph.get_operations():
            try: value = tf_ops.get_stats_for_node_def(graph, op.node_def, 'flops').value
            except Exception: value = None  # op type without registered FLOP statistics
            if value: by_type[op.type] = by_type.get(op.type, 0) + value / batch
        return by_type
    forward = counted(tf.function(lambda x: model(x, training=True)).get_concrete_function(spec).graph)
    def step(x):
        with tf.GradientTape() as tape: loss = tf.reduce_mean(model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)
    training = counted(tf.function(step).get_concrete_function(spec).graph)
    heavy = lambda d: sum(v for k, v in d.items() if 'Conv' in k or 'MatMul' in k)
    return {'forward_all': sum(forward.values()), 'forward_conv_matmul': heavy(forward),
            'training_all': sum(training.values()), 'training_conv_matmul': heavy(training), 'by_type': training}

# ----------------------------------------------------------------------------------------------------------------
# GEMM peak
def gemm_peak(sizes=(2048, 4096), repeats: int = 5) -> dict:
    "Best FLOP/s of square tf.matmul (float32 and bfloat16, oneDNN like training) and numpy float32 matmul."
    import numpy as np
    import tensorflow as tf
    out = {}
    for dtype in ('float32', 'bfloat16'):
        best = 0.0
        for n in sizes:
            a = tf.cast(tf.random.uniform([n, n]), dtype); b = tf.cast(tf.random.uniform([n, n]), dtype)
            mm = tf.function(tf.linalg.matmul)
            mm(a, b).numpy()  # build, warm up
            for _ in range(repeats):
                t = time.perf_counter(); mm(a, b).numpy(); dt = time.perf_counter() - t
                best = max(best, 2 * n ** 3 / dt)
        out[dtype] = best
    a = np.random.default_rng(0).random((sizes[0], sizes[0]), dtype=np.float32)
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter(); a @ a; best = max(best, 2 * sizes[0] ** 3 / (time.perf_counter() - t))
    out['numpy_float32'] = best
    return out

# ----------------------------------------------------------------------------------------------------------------
# Worker processes
def _demo_images(n_train: int, seed: int = 0):
    from survconvmixer.data import minmax_scale_genes
    from survconvmixer.demo import simulate_demo
    from survconvmixer.images import PathwayImageLayout
    from survconvmixer.labelling import label_cohort
    demo = simulate_demo(n_train=n_train, seed=seed)
    labels = label_cohort(demo.train, 3).labels
    X = minmax_scale_genes(demo.train.expression).loc[labels.index]
    return demo, PathwayImageLayout.from_collection(demo.pathways), X, labels

def _setup(cfg: dict):
    "Apply a configuration's TensorFlow settings in this (fresh) process; return tensorflow and keras."
    import tensorflow as tf
    if cfg['intra'] is not None: tf.config.threading.set_intra_op_parallelism_threads(cfg['intra'])
    if cfg['inter'] is not None: tf.config.threading.set_inter_op_parallelism_threads(cfg['inter'])
    import keras
    if cfg['layers'] not in ('keras', 'fused+matmul'): raise ValueError(f"unknown layers {cfg['layers']!r}")
    return tf, keras

def _cpu_seconds() -> float:
    t = os.times(); return t.user + t.system

def compiled_model_and_data(cfg: dict, n: int):
    "TensorFlow, Keras, the compiled network of a configuration (seed 0) and `n` demo images with their labels."
    import numpy as np
    tf, keras = _setup(cfg)
    from survconvmixer.model import build_survconvmixer
    demo, layout, X, labels = _demo_images(int(n * 1.35) + 300)
    x = layout.transform(X).astype('float32')
    y = labels.to_numpy().astype('float32')
    reps = -(-n // len(x))  # tile if the simulated cohort is short
    x, y = np.concatenate([x] * reps)[:n], np.concatenate([y] * reps)[:n]
    keras.utils.set_random_seed(0)
    model = build_survconvmixer(layout, precision=cfg['precision'], fused=cfg['layers'] != 'keras')
    model.compile(optimizer=keras.optimizers.AdamW(1e-3, weight_decay=1e-4), loss='binary_crossentropy',
                  metrics=[keras.metrics.AUC(name='auc')] if cfg['auc_metric'] else [],
                  steps_per_execution=cfg['steps_per_execution'], jit_compile=cfg['jit'])
    return tf, keras, model, x, y

def fit_inputs(cfg: dict, tf, x, y) -> dict:
    "The training data of `model.fit` as the configuration's input pipeline feeds it (keyword arguments)."
    bs = cfg['batch_size']
    if cfg['pipeline'] == 'tfdata':
        return {'x': tf.data.Dataset.from_tensor_slices((x, y)).cache().shuffle(len(x), seed=0)
                .batch(bs).prefetch(tf.data.AUTOTUNE)}
    if cfg['pipeline'] == 'batches':  # the estimator's pipeline: seeded reshuffle, no tf.data autotuning
        from survconvmixer.model import batches
        return {'x': batches((x, y), bs, shuffle_seed=0)}
    return {'x': x, 'y': y, 'batch_size': bs, 'shuffle': True}

def worker_throughput(cfg: dict, n: int, epochs: int) -> dict:
    "Steady-state training samples/s of one configuration: median epoch time, the first epoch excluded."
    import numpy as np
    tf, keras, model, x, y = compiled_model_and_data(cfg, n)
    wall, cpu = [], []
    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None): self.t, self.c = time.perf_counter(), _cpu_seconds()
        def on_epoch_end(self, epoch, logs=None):
            wall.append(time.perf_counter() - self.t); cpu.append(_cpu_seconds() - self.c)
    model.fit(**fit_inputs(cfg, tf, x, y), epochs=epochs, callbacks=[Timer()], verbose=0)
    steady_wall, steady_cpu = np.median(wall[1:]), np.median(cpu[1:])
    return {'samples_per_s': n / steady_wall, 'samples_per_cpu_s': n / steady_cpu, 'epoch_s': wall,
            'load': os.getloadavg()[0]}

def worker_auc(cfg: dict, seed: int, max_epochs: int) -> dict:
    "Held-out AUC of SurvConvMixerClassifier (3-year problem) trained under one configuration."
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    tf, keras = _setup(cfg)
    if cfg['steps_per_execution'] != 1 or not cfg['auc_metric'] or cfg['jit']:
        # compile knobs the estimator does not expose: patch them in for this process only (its input pipeline
        # is its own: `pipeline` does not apply here)
        original = keras.Model.compile
        def compile(self, *a, **kw):
            kw.update(steps_per_execution=cfg['steps_per_execution'], jit_compile=cfg['jit'])
            if not cfg['auc_metric']: kw['metrics'] = []
            return original(self, *a, **kw)
        keras.Model.compile = compile
    from survconvmixer.model import SurvConvMixerClassifier
    demo, layout, X, labels = _demo_images(2200)
    X_fit, X_test, y_fit, y_test = train_test_split(X, labels, test_size=0.25, stratify=labels, random_state=seed)
    est = SurvConvMixerClassifier(pathways=demo.pathways, batch_size=cfg['batch_size'], precision=cfg['precision'],
                                  epochs=max_epochs, random_state=seed, fused=cfg['layers'] != 'keras')
    est.fit(X_fit, y_fit.to_numpy())
    auc = roc_auc_score(y_test, est.predict_proba(X_test)[:, 1])
    n_fit = int(round(len(X_fit) * (1 - est.validation_fraction)))
    return {'auc': float(auc), 'epochs': int(est.n_epochs_), 'fit_s': float(est.fit_seconds_),
            'samples_per_s': n_fit * est.n_epochs_ / est.fit_seconds_}

def run_worker(kind: str, cfg: dict, **kw) -> dict:
    "Run a worker in a fresh Python process with the configuration's environment variables set before import."
    env = {**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2', **cfg['env']}
    args = [sys.executable, str(HERE), '--worker', json.dumps({'kind': kind, 'cfg': cfg, **kw})]
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.startswith('{')]
    if proc.returncode or not lines:
        raise RuntimeError(f"worker {kind} {cfg['what']!r} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])

# ----------------------------------------------------------------------------------------------------------------
def equivalence_check(layout, batch: int = 64) -> dict:
    "The package's fused layers vs the plain Keras layers, same seed (same weights), one batch: largest differences."
    import numpy as np
    import tensorflow as tf
    import keras
    from survconvmixer.model import build_survconvmixer
    rng = np.random.default_rng(0)
    x = rng.random((batch, *layout.image_shape), dtype=np.float32)
    y = (rng.random((batch, 1)) > 0.5).astype('float32')
    reference, fused = (build_survconvmixer(layout, seed=0, fused=f) for f in (False, True))
    loss = keras.losses.BinaryCrossentropy()
    def step(model):
        with tf.GradientTape() as tape:
            p = model(x, training=True); value = loss(y, p)
        return p, tape.gradient(value, model.trainable_variables)
    (p1, g1), (p2, g2) = step(reference), step(fused)
    rel = [float(tf.reduce_max(tf.abs(a - b)) / tf.reduce_max(tf.abs(a))) for a, b in zip(g1, g2)]
    big = [r for r, v in zip(rel, reference.trainable_variables) if not v.path.endswith('bias')]
    stats = [float(tf.reduce_max(tf.abs(a - b))) for a, b in zip(reference.non_trainable_variables, fused.non_trainable_variables)]
    return {'prediction': float(tf.reduce_max(tf.abs(p1 - p2))), 'weight_gradient_rel': max(big),
            'bias_gradient_rel': max(rel), 'moving_stats': max(stats),
            'inference': float(tf.reduce_max(tf.abs(reference(x) - fused(x))))}

def measure(names: list[str], rounds: int, n: int, epochs: int, label: str) -> dict:
    "Throughput of configurations, interleaved over rounds; every measurement kept, best per configuration."
    results = {name: [] for name in names}
    for r in range(rounds):
        for name in names:
            try: res = run_worker('throughput', CONFIGS[name], n=n, epochs=epochs)
            except RuntimeError as e:
                print(f"   !! {name} failed: {e}"); res = None
            results[name].append(res)
            if res: print(f"   {label} round {r + 1}  {name:28s} {res['samples_per_s']:6.0f} samples/s  "
                          f"({res['samples_per_cpu_s']:4.0f} per CPU-second, load {res['load']:.1f})", flush=True)
    return results

def single_thread(cfg: dict) -> dict:
    "A configuration with one intra-op and one inter-op thread (a fit that keeps to one core)."
    return {**cfg, 'intra': 1, 'inter': 1, 'what': cfg['what'] + ', 1 intra-op + 1 inter-op thread'}

def measure_ceiling(names: list[str], rounds: int, n: int, epochs: int, fits: int) -> dict:
    """Per configuration and round: one single-thread fit alone, then `fits` single-thread fits at once (separate
    processes started together; their samples/s summed). Interleaved over rounds like `measure`."""
    from concurrent.futures import ThreadPoolExecutor
    results = {name: [] for name in names}
    for r in range(rounds):
        for name in names:
            cfg = single_thread(CONFIGS[name])
            try:
                alone = run_worker('throughput', cfg, n=n, epochs=epochs)
                with ThreadPoolExecutor(fits) as pool:
                    together = list(pool.map(lambda _: run_worker('throughput', cfg, n=n, epochs=epochs), range(fits)))
            except RuntimeError as e:
                print(f"   !! {name} failed: {e}"); results[name].append(None); continue
            res = {'alone': alone['samples_per_s'], 'together': [t['samples_per_s'] for t in together],
                   'total': sum(t['samples_per_s'] for t in together)}
            results[name].append(res)
            print(f"   ceiling round {r + 1}  {name:28s} one single-thread fit {res['alone']:6.0f} samples/s; {fits} at "
                  f"once {' + '.join(f'{t:.0f}' for t in res['together'])} = {res['total']:6.0f}", flush=True)
    return results

def best_of(runs: list) -> dict | None:
    return max((r for r in runs if r), key=lambda r: r['samples_per_s'], default=None)

def median_samples_per_s(runs: list) -> float | None:
    "The median samples/s of the runs that did not fail; None if all failed."
    values = [r['samples_per_s'] for r in runs if r]
    return statistics.median(values) if values else None

def attainable_peak(cfg: dict, flops: dict, peak: dict) -> float:
    """The GEMM peak a configuration could reach: float32's; bfloat16's when everything computes in bfloat16; for
    'bfloat16_pointwise' the two weighted by FLOPs (the 1x1 convolutions' share at the bfloat16 peak)."""
    if cfg['precision'] == 'bfloat16_pointwise':
        share = flops['macs']['pointwise'] / sum(flops['macs'].values())
        return 1 / ((1 - share) / peak['float32'] + share / peak['bfloat16'])
    if cfg['precision'] != 'float32' or 'ONEDNN_DEFAULT_FPMATH_MODE' in cfg['env']: return peak['bfloat16']
    return peak['float32']

def print_table(names, results, baseline: dict | None, peak: dict, flops: dict):
    header = (f"   {'configuration':28s} {'samples/s':>9s} {'x base':>7s} {'per CPU-s':>9s} {'GFLOP/s':>8s} "
              f"{'eff f32':>8s} {'eff own':>8s}  what")
    print(header); print('   ' + '-' * (len(header) + 30))
    for name in names:
        res = best_of(results[name])
        if res is None: print(f"   {name:28s} {'failed':>9s}"); continue
        sps = res['samples_per_s']; achieved = sps * flops['training']
        cfg = CONFIGS[name]
        speedup = f"{sps / baseline['samples_per_s']:.2f}x" if baseline else '-'
        print(f"   {name:28s} {sps:9.0f} {speedup:>7s} {res['samples_per_cpu_s']:9.0f} {achieved / 1e9:8.1f} "
              f"{achieved / peak['float32']:8.1%} {achieved / attainable_peak(cfg, flops, peak):8.1%}  {cfg['what']}")
    print("   eff f32 = model FLOP/s / float32 GEMM peak; eff own = model FLOP/s / the peak of the precisions the "
          "configuration computes in (bfloat16's, or for bfloat16_pointwise the two weighted by FLOPs): the honest "
          "efficiency of a configuration that computes in bfloat16")

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='the headline configurations only, 3 AUC seeds (~3 minutes)')
    ap.add_argument('--only', help=f'comma-separated configurations for the exploration table (of: {", ".join(CONFIGS)})')
    ap.add_argument('--rounds', type=int, help='interleaved rounds of the headline configurations (best kept)')
    ap.add_argument('--seeds', type=int, help='AUC seeds per configuration')
    ap.add_argument('--no-auc', action='store_true', help='skip the AUC comparison')
    ap.add_argument('--samples', type=int, help='samples per throughput epoch (default 2048 quick, 4096 full)')
    ap.add_argument('--epochs', type=int, help='throughput epochs, the first not timed (default 3 quick, 4 full)')
    ap.add_argument('--max-epochs', type=int, help="AUC fits: epoch cap (default 10 quick, the estimator's own full)")
    ap.add_argument('--ceiling', action='store_true', help="also measure the headline configurations' ceiling: one "
                    "single-thread fit per core, all at once (section 5)")
    ap.add_argument('--json', help='also write every measurement to this JSON file')
    ap.add_argument('--worker', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        job = json.loads(args.worker)
        fn = {'throughput': worker_throughput, 'auc': worker_auc}[job.pop('kind')]
        print(json.dumps(fn(**job)))
        return

    explore = args.only.split(',') if args.only else ([] if args.quick else [c for c in CONFIGS if c not in HEADLINE])
    unknown = [c for c in explore if c not in CONFIGS]
    if unknown: ap.error(f"unknown configurations {unknown}; known: {list(CONFIGS)}")
    rounds = args.rounds or (3 if args.quick else 5)
    seeds = args.seeds or (3 if args.quick else 10)
    n, epochs = (2048, 3) if args.quick else (4096, 4)
    n, epochs = args.samples or n, args.epochs or epochs
    if epochs < 2: ap.error('--epochs must be at least 2 (the first epoch is not timed)')
    max_epochs = args.max_epochs or (10 if args.quick else None)
    report = {'argv': sys.argv[1:], 'cpus': os.cpu_count(), 'load_start': os.getloadavg()}
    t0 = time.perf_counter()
    print(f"SurvConvMixer training benchmark ({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at the "
          f"start: a load above the CPU count means other processes share the cores and every number drops)")
    if os.environ.get('XLA_FLAGS'):
        print(f"note: XLA_FLAGS={os.environ['XLA_FLAGS']!r} is set in this shell: every configuration runs with it, "
              f"except {WIDE}, which replaces it with {WIDE_XLA_VECTORS['XLA_FLAGS']!r}")

    # 1. FLOPs
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import numpy as np
    import tensorflow as tf
    from survconvmixer.demo import synthetic_pathways
    from survconvmixer.images import PathwayImageLayout
    layout = PathwayImageLayout.from_collection(synthetic_pathways())
    flops = model_flops(layout.image_side, layout.patch_side)
    prof = profiler_flops(layout)
    report.update(flops=flops, profiler=prof)
    print(f"\n1. Model FLOPs per sample ({layout.image_side}x{layout.image_side} image, {layout.patch_side}x"
          f"{layout.patch_side} patches, width 256, depth 2; multiply-accumulate = 2 FLOPs; convs + dense only)")
    print(f"   forward                 {flops['forward'] / 1e6:6.2f} MFLOP  (TF graph profiler: {prof['forward_conv_matmul'] / 1e6:.2f} "
          f"in conv/matmul ops, {prof['forward_all'] / 1e6:.2f} with elementwise ops)")
    print(f"   training = 3 x forward  {flops['training'] / 1e6:6.2f} MFLOP  (exact, no input-image gradient: "
          f"{flops['training_exact'] / 1e6:.2f}; TF profiler on the gradient graph: {prof['training_all'] / 1e6:.2f})")
    eq = equivalence_check(layout)
    report['equivalence'] = eq
    print(f"   fused layers vs Keras layers, same weights, one batch of 64: max |d prediction| {eq['prediction']:.1e}, "
          f"max relative d weight-gradient {eq['weight_gradient_rel']:.1e} (conv biases, whose true gradient is ~0 "
          f"before batch norm: {eq['bias_gradient_rel']:.1e}), max |d moving statistics| {eq['moving_stats']:.1e}")

    # 2. GEMM peak, measured again at the end; the best is the machine's peak
    sizes, reps = ((2048,), 3) if args.quick else ((2048, 4096), 5)
    peak = gemm_peak(sizes, reps)
    print(f"\n2. Dense GEMM peak (square tf.matmul, n = {'/'.join(map(str, sizes))}, best of {reps}): float32 "
          f"{peak['float32'] / 1e9:.0f} GFLOP/s, bfloat16 (AMX) {peak['bfloat16'] / 1e9:.0f} GFLOP/s "
          f"(numpy float32: {peak['numpy_float32'] / 1e9:.0f} GFLOP/s)")

    # 3. Throughput: the headline pair interleaved over rounds, then the exploration table
    print(f"\n3. Training throughput, steady state ({n} samples per epoch, {epochs} epochs, median epoch time without "
          f"the first; each configuration in a fresh process)")
    results = measure(HEADLINE, rounds, n, epochs, 'headline')
    if explore: results.update(measure(explore, 1, n, epochs, 'explore'))
    peak_end = gemm_peak(sizes, reps)
    peak = {k: max(peak[k], peak_end[k]) for k in peak}
    report.update(gemm_peak=peak, throughput=results)
    print(f"\n   GEMM peak, best of start and end: float32 {peak['float32'] / 1e9:.0f} GFLOP/s, bfloat16 "
          f"{peak['bfloat16'] / 1e9:.0f} GFLOP/s")
    baseline = best_of(results['baseline'])
    print_table(HEADLINE + [c for c in explore if c not in HEADLINE], results, baseline, peak, flops)
    for name in HEADLINE[1:]:
        paired = [b['samples_per_s'] / a['samples_per_s'] for a, b in zip(results['baseline'], results[name]) if a and b]
        if paired:
            print(f"   {name} / baseline, per interleaved round: {', '.join(f'{r:.2f}x' for r in paired)}; "
                  f"median {np.median(paired):.2f}x")

    # 4. AUC: the estimator with each headline configuration
    if not args.no_auc:
        print(f"\n4. Held-out AUC of SurvConvMixerClassifier, demo 3-year problem (simulate_demo(n_train=2200), 75/25 "
              f"stratified split per seed, the estimator's own early stopping"
              f"{f', at most {max_epochs} epochs' if max_epochs else ''}), seeds 0..{seeds - 1}")
        aucs = {name: [] for name in HEADLINE}
        for seed in range(seeds):
            for name in HEADLINE:
                res = run_worker('auc', CONFIGS[name], seed=seed, max_epochs=max_epochs)
                aucs[name].append(res)
                print(f"   seed {seed}  {name:28s} AUC {res['auc']:.4f}  ({res['epochs']} epochs in {res['fit_s']:.0f} s)",
                      flush=True)
        report['auc'] = aucs
        a = {k: np.array([r['auc'] for r in v]) for k, v in aucs.items()}
        sd = lambda v: f"{v.std(ddof=1):.4f}" if len(v) > 1 else 'n/a (1 seed)'
        for name in HEADLINE:
            fit_s = sum(r['fit_s'] for r in aucs[name])
            print(f"   {name:28s} AUC {a[name].mean():.4f} +- {sd(a[name])}   total fit time {fit_s:.0f} s")
        for name, reference in ((RECOMMENDED, 'baseline'), (FASTEST, RECOMMENDED), (WIDE, FASTEST)):
            d = a[name] - a[reference]
            print(f"   difference {name} - {reference} (paired by seed): {d.mean():+.4f} +- {sd(d)}; "
                  f"largest |difference| {np.abs(d).max():.4f}")
    # 5. The ceiling: every core busy with its own fit
    if args.ceiling:
        fits = max(2, os.cpu_count() or 2)
        print(f"\n5. What the cores give when nothing waits: {fits} single-thread fits of a configuration at once, in "
              f"separate processes (samples/s summed), against one single-thread fit alone and the single fit of "
              f"section 3 ({rounds} interleaved rounds). The sum estimates the most a single fit of the same "
              f"arithmetic could reach by threading alone; section 3's fits get their share of it through "
              f"TensorFlow's intra-op threads.")
        ceiling = measure_ceiling(HEADLINE[:3], rounds, n, epochs, fits)
        report['ceiling'] = ceiling
        plain = median_samples_per_s(results['baseline'])
        print(f"   {'configuration':28s} {'alone':>7s} {'all cores':>9s} {'scaling':>7s} {'single fit':>10s} "
              f"{'of ceiling':>10s} {'ceiling / plain fit':>19s}   (medians over rounds)")
        for name in HEADLINE[:3]:
            runs = [r for r in ceiling[name] if r]
            if not runs: print(f"   {name:28s} failed"); continue
            alone, total = np.median([r['alone'] for r in runs]), np.median([r['total'] for r in runs])
            single = median_samples_per_s(results[name])
            single, share = (f"{single:10.0f}", f"{single / total:10.0%}") if single else ('-', '-')
            versus = f"{total / plain:.2f}x" if plain else '-'
            print(f"   {name:28s} {alone:7.0f} {total:9.0f} {total / alone:6.2f}x {single:>10s} {share:>10s} {versus:>19s}")
        print(f"   scaling = all cores / one alone ({fits} would be perfect); of ceiling = section 3's single "
              f"{os.cpu_count()}-CPU fit / all cores; ceiling / plain fit = all cores / section 3's plain Keras fit")

    print(f"\nload average at the end {os.getloadavg()[0]:.2f}; wall time {time.perf_counter() - t0:.0f} s")
    if args.json: Path(args.json).write_text(json.dumps(report, indent=1, default=float))

if __name__ == '__main__':
    main()
