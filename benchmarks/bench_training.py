#!/usr/bin/env python
"""Training throughput of SurvConvMixer on this machine's CPU: the package's paths against a plain Keras `fit`.

Three configurations, each in a fresh subprocess, interleaved over `--rounds` rounds:

- plain:   `build_survconvmixer(layout, fused=False)` (plain Keras layers), `model.fit` on NumPy arrays;
- float32: the package's default, the estimator's training path: `build_survconvmixer(layout)` (fused layers) fed
           by `survconvmixer.training.shuffled_batches` (what `fit_network` does, without its inner split);
- bf16pw:  the same with `precision='bfloat16_pointwise'` (the 1x1 convolutions' products in bfloat16).

All three: batch 64, AdamW(1e-3, weight decay 1e-4), binary cross-entropy, an AUC metric, seed 0. Samples/s is
steady state: the median epoch time, the first epoch (tracing) left out. The script prints each round's ratio to
the plain fit and their median, the machine's dense float32 GEMM peak (`tf.matmul`, best of a few sizes, at the
start and at the end) and each configuration's efficiency = model FLOP/s / that peak. With `--auc`, the held-out
AUC of `SurvConvMixerClassifier` under each configuration (the demo's 3-year problem, a 75/25 stratified split
per seed, the estimator's own early stopping). It asserts nothing: it reports this machine's numbers.

    python benchmarks/bench_training.py --quick         # 3 rounds, ~3 minutes on 2 cores
    python benchmarks/bench_training.py --quick --auc   # + held-out AUC, 3 seeds, at most 10 epochs
    python benchmarks/bench_training.py                 # 5 rounds of 4,096 samples x 4 epochs

FLOPs: a multiply-accumulate is 2 FLOPs; only the convolutions and the dense layer count (not the elementwise
GELU / batch-norm / residual work); training = 3 x forward (forward, gradient w.r.t. activations and w.r.t. weights).
"""
from __future__ import annotations
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1]))  # run from a checkout without installing
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

CONFIGS = {  # name -> (what, build_survconvmixer keywords, input pipeline)
    'plain': ('plain Keras layers, model.fit on NumPy arrays', dict(fused=False), 'numpy'),
    'float32': ("the package's default: fused layers, shuffled_batches", dict(), 'batches'),
    'bf16pw': ("the same, precision='bfloat16_pointwise'", dict(precision='bfloat16_pointwise'), 'batches'),
}


def model_flops(image_side: int, patch_side: int, width: int = 256, depth: int = 2, kernel_size: int = 3) -> dict:
    "Multiply-accumulates per sample of the 2-D SurvConvMixer's convolutions and dense layer, and FLOPs from them."
    slots = (image_side // patch_side) ** 2
    macs = {'embedding': slots * patch_side ** 2 * width,          # p x p conv, stride p, 1 -> width channels
            'depthwise': depth * slots * kernel_size ** 2 * width,  # k x k depthwise, 'same' padding
            'pointwise': depth * slots * width * width,             # 1 x 1 conv width -> width
            'dense': width}
    forward = 2 * sum(macs.values())
    return {'macs': macs, 'forward': forward, 'training': 3 * forward}


def gemm_peak(sizes, repeats: int) -> float:
    "Best float32 FLOP/s of square `tf.matmul` over `sizes`."
    import tensorflow as tf
    best, mm = 0.0, tf.function(tf.linalg.matmul)
    for n in sizes:
        a, b = tf.random.uniform([n, n]), tf.random.uniform([n, n])
        mm(a, b).numpy()  # trace, warm up
        for _ in range(repeats):
            start = time.perf_counter(); mm(a, b).numpy()
            best = max(best, 2 * n ** 3 / (time.perf_counter() - start))
    return best


def demo_problem(**simulate):
    "The demo's layout, min-max scaled training expression and 3-year labels (rows aligned)."
    from survconvmixer.data import minmax_scale_genes
    from survconvmixer.demo import simulate_demo
    from survconvmixer.images import PathwayImageLayout
    from survconvmixer.labelling import label_cohort
    demo = simulate_demo(seed=0, **simulate)
    labels = label_cohort(demo.train, 3).labels
    return demo, PathwayImageLayout.from_collection(demo.pathways), minmax_scale_genes(demo.train.expression).loc[labels.index], labels


def worker(name: str, n: int, epochs: int, seeds: int = 0, max_epochs: int | None = None) -> dict:
    "Steady-state training samples/s of one configuration, then its held-out AUC for `seeds` seeds (a fresh process)."
    import math
    import numpy as np
    import keras
    from survconvmixer.model import build_survconvmixer
    from survconvmixer.training import shuffled_batches
    _, build, pipeline = CONFIGS[name]
    _, layout, X, labels = demo_problem(n_train=int(n * 1.35) + 300, n_background_genes=100)
    x, y = layout.transform(X).astype('float32'), labels.to_numpy().astype('float32')
    reps = -(-n // len(x))  # tile if the cohort is short
    x, y = np.concatenate([x] * reps)[:n], np.concatenate([y] * reps)[:n]
    model = build_survconvmixer(layout, seed=0, **build)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3, weight_decay=1e-4), loss='binary_crossentropy',
                  metrics=[keras.metrics.AUC(name='auc')])
    seconds = []
    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None): self.start = time.perf_counter()
        def on_epoch_end(self, epoch, logs=None): seconds.append(time.perf_counter() - self.start)
    if pipeline == 'numpy':
        model.fit(x, y, batch_size=64, epochs=epochs, shuffle=True, callbacks=[Timer()], verbose=0)
    else:
        model.fit(shuffled_batches((x, y), 64, epochs, seed=0), epochs=epochs, steps_per_epoch=math.ceil(n / 64),
                  shuffle=False, callbacks=[Timer()], verbose=0)
    return {'samples_per_s': n / statistics.median(seconds[1:]), 'epoch_s': seconds,
            'auc': held_out_auc(name, seeds, max_epochs)}


def held_out_auc(name: str, seeds: int, max_epochs: int | None) -> list[dict]:
    "Held-out AUC of SurvConvMixerClassifier under one configuration, its epochs and fit seconds, per seed."
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from survconvmixer.model import SurvConvMixerClassifier
    if not seeds: return []
    _, build, _ = CONFIGS[name]
    demo, _, X, labels = demo_problem()
    runs = []
    for seed in range(seeds):
        X_fit, X_test, y_fit, y_test = train_test_split(X, labels, test_size=0.25, stratify=labels, random_state=seed)
        est = SurvConvMixerClassifier(pathways=demo.pathways, epochs=max_epochs, random_state=seed, **build)
        est.fit(X_fit, y_fit.to_numpy())
        runs.append({'auc': float(roc_auc_score(y_test, est.predict_proba(X_test)[:, 1])),
                     'epochs': est.training_.n_epochs, 'fit_s': est.training_.seconds})
    return runs


def run_worker(**job) -> dict:
    "`worker(**job)` in a fresh Python process (no TensorFlow state shared between configurations)."
    proc = subprocess.run([sys.executable, str(HERE), '--worker', json.dumps(job)], capture_output=True, text=True,
                          env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'})
    lines = [l for l in proc.stdout.splitlines() if l.startswith('{')]
    if proc.returncode or not lines:
        raise SystemExit(f"worker {job} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='3 rounds of 2,048 samples x 3 epochs; AUC: 3 seeds, 10 epochs')
    ap.add_argument('--rounds', type=int, help='interleaved rounds (default 3 quick, 5 full)')
    ap.add_argument('--samples', type=int, help='samples per epoch (default 2048 quick, 4096 full)')
    ap.add_argument('--epochs', type=int, help='epochs per throughput fit, the first not timed (default 3 quick, 4 full)')
    ap.add_argument('--auc', action='store_true', help="also each configuration's held-out AUC (in round 1's processes)")
    ap.add_argument('--seeds', type=int, help='AUC seeds (default 3 quick, 10 full)')
    ap.add_argument('--max-epochs', type=int, help="AUC fits' epoch cap (default 10 quick, the estimator's own full)")
    ap.add_argument('--worker', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(**json.loads(args.worker))))
        return
    rounds = args.rounds or (3 if args.quick else 5)
    n = args.samples or (2048 if args.quick else 4096)
    epochs = args.epochs or (3 if args.quick else 4)
    if epochs < 2: ap.error('--epochs must be at least 2 (the first epoch is not timed)')
    seeds = (args.seeds or (3 if args.quick else 10)) if args.auc else 0
    max_epochs = args.max_epochs or (10 if args.quick else None)
    sizes, repeats = ((1024, 2048), 3) if args.quick else ((2048, 4096), 5)

    from survconvmixer.demo import synthetic_pathways
    from survconvmixer.images import PathwayImageLayout
    layout = PathwayImageLayout.from_collection(synthetic_pathways())
    flops = model_flops(layout.image_side, layout.patch_side)
    print(f"SurvConvMixer training throughput ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f})")
    print(f"model FLOPs per sample ({layout.image_side}x{layout.image_side} image, {layout.patch_side}x"
          f"{layout.patch_side} patches, width 256, depth 2): forward {flops['forward'] / 1e6:.2f} MFLOP, "
          f"training = 3 x forward  {flops['training'] / 1e6:.2f} MFLOP")
    peak = gemm_peak(sizes, repeats)
    print(f"\n{n} samples per epoch, {epochs} epochs (median epoch time without the first), a fresh process each")
    results, aucs = {name: [] for name in CONFIGS}, {}
    for r in range(rounds):
        for name in CONFIGS:
            res = run_worker(name=name, n=n, epochs=epochs, seeds=seeds if r == 0 else 0, max_epochs=max_epochs)
            results[name].append(res['samples_per_s'])
            if r == 0: aucs[name] = res['auc']
            print(f"   round {r + 1}  {name:8s} {res['samples_per_s']:7.0f} samples/s", flush=True)
    peak = max(peak, gemm_peak(sizes, repeats))
    print(f"\nfloat32 GEMM peak (square tf.matmul, n = {'/'.join(map(str, sizes))}, best of {repeats}, at the start "
          f"and the end): {peak / 1e9:.0f} GFLOP/s")
    print(f"   {'config':8s} {'median':>7s} {'best':>7s} {'x plain':>8s} {'efficiency':>10s}  what  (samples/s: median, best)")
    for name, (what, _, _) in CONFIGS.items():
        sps = results[name]
        ratio = statistics.median(a / b for a, b in zip(sps, results['plain']))
        print(f"   {name:8s} {statistics.median(sps):7.0f} {max(sps):7.0f} {ratio:7.2f}x "
              f"{max(sps) * flops['training'] / peak:10.1%}  {what}")
    print("   x plain = median of the per-round ratios; efficiency = model FLOP/s of the best round / GEMM peak")
    for name in list(CONFIGS)[1:]:
        paired = [a / b for a, b in zip(results[name], results['plain'])]
        print(f"{name} / plain, per interleaved round: {', '.join(f'{p:.2f}x' for p in paired)}; "
              f"median {statistics.median(paired):.2f}x")

    if seeds:
        print(f"\nheld-out AUC of SurvConvMixerClassifier, demo 3-year problem, 75/25 split, seeds 0..{seeds - 1}"
              f"{f', at most {max_epochs} epochs' if max_epochs else ''} (the estimator's early stopping)")
        for name in CONFIGS:
            runs = aucs[name]
            print(f"   {name:8s} AUC {statistics.mean(r['auc'] for r in runs):.4f}  (per seed "
                  f"{', '.join(format(r['auc'], '.4f') for r in runs)}; {sum(r['epochs'] for r in runs)} epochs in "
                  f"{sum(r['fit_s'] for r in runs):.0f} s)")
        for name in list(CONFIGS)[1:]:
            d = [a['auc'] - b['auc'] for a, b in zip(aucs[name], aucs['plain'])]
            print(f"   {name} - plain, paired by seed: mean {statistics.mean(d):+.4f}, largest |difference| "
                  f"{max(map(abs, d)):.4f}")


if __name__ == '__main__':
    main()
