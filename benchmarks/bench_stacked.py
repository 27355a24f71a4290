"""The folds of a problem trained as one stacked network, against one fold at a time (issue 16, item 2).

    python benchmarks/bench_stacked.py                 # 5 folds, the paper's width, batches 16 and 64, 3 rounds
    python benchmarks/bench_stacked.py --folds 10 --rounds 5

The K fold networks of a validation problem share their architecture, so they can be trained as one network
whose every layer holds K weight sets: each fold's images enter as one channel of a (batch, side, side, K)
input, the patch embedding, the 1x1 pointwise convolutions and the output layer are K independent products
(batched matrix products, `einsum`, or grouped convolutions), and the depthwise convolutions and batch norms are
already per channel, so they act on the K x width channels unchanged. One optimiser step then advances every
fold on its own batch; the losses are summed, so no fold's gradient depends on another's (Adam is elementwise).

The script

1. checks the stacked network is K SurvConvMixers: K networks of the package (`build_survconvmixer`, fused
   layers, seeds 0..K-1) are copied into one stacked network, which must give each fold's predictions on that
   fold's images, in inference and in training mode (batch statistics per fold), to float32 rounding;
2. times training steps, interleaved over rounds in one process: the package's fused network trained on one
   fold (seconds per step x K = one step of every fold, one at a time) against the stacked network (one step of
   every fold), at the small-cohort recipe's batch (16) and the paper recipe's (64), with the same optimiser;
   it prints each round's ratio (fold-at-a-time / stacked: above 1 means stacking is faster) and the median.

Both sides use every core (TensorFlow's intra-op threads), as a serial fold fit does; the validation grid's two
workers overlap two such fits (`bench_grid.py`), which stacking could do too, so the ratio compares like with like.
"""
import argparse, os, statistics, time, warnings

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np


def stacked_layers():
    "The three stacked layers (built lazily: importing TensorFlow is slow)."
    import keras, tensorflow as tf
    from keras import layers

    class StackedPatchEmbedding(layers.Layer):
        "Non-overlapping p x p patches of K one-channel images -> K x width channels (one kernel per fold)."
        def __init__(self, folds, width, patch, **kw):
            super().__init__(**kw); self.folds, self.width, self.patch = folds, width, patch
        def build(self, shape):
            self.kernel = self.add_weight(shape=(self.folds, self.patch ** 2, self.width), initializer='glorot_uniform', name='kernel')
            self.bias = self.add_weight(shape=(self.folds * self.width,), initializer='zeros', name='bias')
        def call(self, x):
            p, k, g = self.patch, self.folds, x.shape[1] // self.patch
            x = tf.reshape(x, [-1, g, p, g, p, k])
            x = tf.reshape(tf.transpose(x, [0, 1, 3, 5, 2, 4]), [-1, g, g, k, p * p])
            return tf.reshape(tf.einsum('bhwkq,kqc->bhwkc', x, self.kernel), [-1, g, g, k * self.width]) + self.bias

    class StackedPointwise(layers.Layer):
        "A 1x1 convolution per fold on K x width channels (a batched matrix product)."
        def __init__(self, folds, width, **kw):
            super().__init__(**kw); self.folds, self.width = folds, width
        def build(self, shape):
            self.kernel = self.add_weight(shape=(self.folds, self.width, self.width), initializer='glorot_uniform', name='kernel')
            self.bias = self.add_weight(shape=(self.folds * self.width,), initializer='zeros', name='bias')
        def call(self, x):
            g = x.shape[1]
            y = tf.einsum('bhwkc,kcd->bhwkd', tf.reshape(x, [-1, g, g, self.folds, self.width]), self.kernel)
            return tf.reshape(y, [-1, g, g, self.folds * self.width]) + self.bias

    class StackedLogit(layers.Layer):
        "(batch, K x width) pooled features -> (batch, K) logits, one dense layer per fold."
        def __init__(self, folds, width, **kw):
            super().__init__(**kw); self.folds, self.width = folds, width
        def build(self, shape):
            self.kernel = self.add_weight(shape=(self.folds, self.width), initializer='glorot_uniform', name='kernel')
            self.bias = self.add_weight(shape=(self.folds,), initializer='zeros', name='bias')
        def call(self, x):
            return tf.einsum('bkc,kc->bk', tf.reshape(x, [-1, self.folds, self.width]), self.kernel) + self.bias

    return StackedPatchEmbedding, StackedPointwise, StackedLogit


def build_stacked(layout, folds: int, width: int = 256, depth: int = 2, kernel_size: int = 3, pointwise: str = 'einsum'):
    """SurvConvMixer with `folds` weight sets: input (batch, side, side, folds), output (batch, folds) probabilities.
    `pointwise`: 'einsum' (batched matrix products) or 'grouped' (`Conv2D(groups=folds)`)."""
    import keras
    from keras import layers
    from survconvmixer.fused import GeluBatchNorm
    from survconvmixer.model import BlankPatchMask
    Embedding, Pointwise, Logit = stacked_layers()
    channels = folds * width
    inputs = keras.Input(shape=(*layout.image_shape[:2], folds), name='images')
    x = GeluBatchNorm(momentum=0.9, name='embedding_bn')(Embedding(folds, width, layout.patch_side, name='embedding')(inputs))
    for i in range(1, depth + 1):
        residual = x
        x = layers.DepthwiseConv2D(kernel_size, padding='same', name=f'mixer_{i}_depthwise')(x)
        x = layers.Add(name=f'mixer_{i}_residual')([GeluBatchNorm(momentum=0.9, name=f'mixer_{i}_depthwise_bn')(x), residual])
        conv = (Pointwise(folds, width, name=f'mixer_{i}_pointwise') if pointwise == 'einsum'
                else layers.Conv2D(channels, 1, groups=folds, name=f'mixer_{i}_pointwise'))
        x = GeluBatchNorm(momentum=0.9, name=f'mixer_{i}_pointwise_bn')(conv(x))
    x = BlankPatchMask((~layout.blank_slots).tolist(), name='blank_mask')(x)
    x = layers.GlobalAveragePooling2D(name='pool')(x)
    outputs = layers.Activation('sigmoid', name='probability')(Logit(folds, width, name='logit')(x))
    return keras.Model(inputs, outputs, name=f'StackedSurvConvMixer{folds}')


def copy_into_stacked(singles: list, stacked, pointwise: str = 'einsum'):
    "Put the weights of K single SurvConvMixers (fold k = `singles[k]`) into the stacked network."
    def w(name, i): return [np.asarray(m.get_layer(name).weights[i]) for m in singles]
    for layer in stacked.layers:
        n = layer.name
        if n == 'embedding':
            layer.set_weights([np.stack([k.reshape(-1, k.shape[-1]) for k in w(n, 0)]), np.concatenate(w(n, 1))])
        elif n.endswith('_bn'):
            layer.set_weights([np.concatenate(w(n, i)) for i in range(4)])
        elif n.endswith('_depthwise'):
            layer.set_weights([np.concatenate(w(n, 0), axis=2), np.concatenate(w(n, 1))])
        elif n.endswith('_pointwise'):
            kernels = [k[0, 0] for k in w(n, 0)]
            kernel = np.stack(kernels) if pointwise == 'einsum' else np.concatenate(kernels, axis=1)[None, None]
            layer.set_weights([kernel, np.concatenate(w(n, 1))])
        elif n == 'logit':
            layer.set_weights([np.stack([k[:, 0] for k in w(n, 0)]), np.concatenate(w(n, 1))])


def check_equivalence(layout, folds: int, width: int, pointwise: str, n: int = 32) -> float:
    "Largest |stacked - single| probability over K fold networks, inference and training mode."
    import tensorflow as tf
    from survconvmixer.model import build_survconvmixer
    singles = [build_survconvmixer(layout, width, seed=k) for k in range(folds)]
    stacked = build_stacked(layout, folds, width, pointwise=pointwise)
    copy_into_stacked(singles, stacked, pointwise)
    rng = np.random.default_rng(0)
    images = rng.random((n, *layout.image_shape[:2], folds), dtype=np.float32)  # fold k sees channel k
    worst = 0.0
    for training in (False, True):
        both = np.asarray(stacked(tf.constant(images), training=training))
        for k, single in enumerate(singles):
            alone = np.asarray(single(tf.constant(images[..., k:k + 1]), training=training))[:, 0]
            worst = max(worst, float(np.abs(both[:, k] - alone).max()))
    return worst


def _seconds_per_step(model, folds: int, batch: int, steps: int, rng) -> float:
    "Seconds per optimiser step of `model.fit` (compiled and warmed up first) on random images."
    import keras, tensorflow as tf
    side = model.input_shape[1]
    x = rng.random((batch * steps, side, side, folds), dtype=np.float32)
    y = (rng.random((batch * steps, folds)) < 0.5).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)
    summed = lambda t, p: folds * keras.losses.binary_crossentropy(t, p)   # the sum of the folds' mean losses
    model.compile(optimizer=keras.optimizers.AdamW(1e-3, weight_decay=1e-4), loss=summed)
    model.fit(data.take(3), verbose=0)                                     # trace
    start = time.perf_counter()
    model.fit(data, verbose=0)
    return (time.perf_counter() - start) / steps


def time_rounds(layout, folds: int, width: int, batches: list[int], steps: dict, rounds: int, pointwise: str) -> dict:
    "batch -> per-round ratios (K x single step) / stacked step; the single network is the package's fused one."
    from survconvmixer.model import build_survconvmixer
    rng, out = np.random.default_rng(1), {b: [] for b in batches}
    single = {b: build_survconvmixer(layout, width, seed=0) for b in batches}
    stacked = {b: build_stacked(layout, folds, width, pointwise=pointwise) for b in batches}
    for r in range(rounds):
        for b in batches:
            one = _seconds_per_step(single[b], 1, b, steps[b], rng)
            together = _seconds_per_step(stacked[b], folds, b, steps[b], rng)
            out[b].append(folds * one / together)
            print(f'round {r + 1} batch {b:3d}: one fold {one * 1e3:6.1f} ms/step, {folds} folds one at a time '
                  f'{folds * one * 1e3:7.1f} ms, stacked {together * 1e3:7.1f} ms; ratio {out[b][-1]:.2f}x', flush=True)
    return out


def default_steps(batches: list[int], steps: int = 0) -> dict:
    "batch -> optimiser steps timed per fit: `steps`, or 200 at batch 16 or less and 60 above."
    return {b: steps or (200 if b <= 16 else 60) for b in batches}


def report(ratios: dict, folds: int) -> None:
    for b, rs in ratios.items():
        print(f'batch {b}: fold-at-a-time / stacked ({folds} folds), per round: '
              f'{", ".join(f"{r:.2f}" for r in rs)}; median {statistics.median(rs):.2f}x')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--folds', type=int, default=5)
    ap.add_argument('--width', type=int, default=256)
    ap.add_argument('--batches', default='16,64')
    ap.add_argument('--steps', type=int, default=0, help='steps timed per fit (0: 200 at batch 16, 60 at 64)')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--pointwise', choices=('einsum', 'grouped'), default='einsum')
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    from survconvmixer.demo import simulate_demo
    from survconvmixer.images import PathwayImageLayout
    layout = PathwayImageLayout.from_collection(simulate_demo(n_train=50, n_external=20).pathways)
    batches = [int(b) for b in args.batches.split(',')]
    steps = default_steps(batches, args.steps)
    print(f'demo images {layout.image_shape[0]} px, patches {layout.patch_side} px, width {args.width}, '
          f'{args.folds} folds, pointwise {args.pointwise}')
    worst = check_equivalence(layout, args.folds, min(args.width, 64), args.pointwise)
    print(f'stacked network = {args.folds} SurvConvMixers: largest probability difference {worst:.1e} '
          f'(inference and training mode)', flush=True)
    report(time_rounds(layout, args.folds, args.width, batches, steps, args.rounds, args.pointwise), args.folds)


if __name__ == '__main__':
    main()
