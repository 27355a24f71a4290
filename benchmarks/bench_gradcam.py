"""Batched Grad-CAM throughput against a per-sample loop, on one model and the same samples in one run.

    python benchmarks/bench_gradcam.py [--n 1024] [--loop-n 128] [--width 256] [--batch-size 256]

The model is an untrained SurvConvMixer on the paper's geometry (40 pathways, 49x49 images, 7x7x`width` feature
map): Grad-CAM's cost does not depend on the weights. Three ways are timed after a warm-up call each:

- batched: `survconvmixer.interpretation.grad_cam`, one compiled forward+backward pass per batch;
- per-sample, compiled: the same public `grad_cam` called on one sample at a time (its compiled function is
  traced once per model and reused);
- per-sample, eager: the usual tutorial loop (a `tf.GradientTape` around the sub-model, one sample at a time).

All three must give the same maps; the script prints samples/s and the speed-up of the batched version.
"""
import argparse, os, time
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
import tensorflow as tf
from survconvmixer.demo import synthetic_pathways
from survconvmixer.images import PathwayImageLayout
from survconvmixer.model import build_survconvmixer
from survconvmixer.interpretation import grad_cam


def eager_loop(model: keras.Model, x: np.ndarray, layout: PathwayImageLayout) -> np.ndarray:
    "Grad-CAM one sample at a time, the way tutorials write it."
    sub = keras.Model(model.inputs[0], [model.get_layer('feature_map').output, model.get_layer('logit').output])
    out = []
    for i in range(len(x)):
        with tf.GradientTape() as tape:
            A, logit = sub(x[i:i + 1], training=False)
        grads = tape.gradient(logit, A)
        alpha = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        out.append(tf.nn.relu(tf.reduce_sum(alpha * A, axis=-1)).numpy()[0])
    cams = np.stack(out).astype('float64')
    cams[:, layout.blank_slots] = 0.0
    return cams


def compiled_loop(model: keras.Model, x: np.ndarray, layout: PathwayImageLayout) -> np.ndarray:
    "`grad_cam` (compiled, traced once per model) called on one sample at a time."
    return np.concatenate([grad_cam(model, x[i:i + 1], layout=layout) for i in range(len(x))])


def timed(f, *args):
    start = time.perf_counter()
    result = f(*args)
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=1024, help='samples for the batched run')
    parser.add_argument('--loop-n', type=int, default=128, help='samples for the per-sample loops')
    parser.add_argument('--width', type=int, default=256, help='filters of the network (paper: 256)')
    parser.add_argument('--batch-size', type=int, default=256)
    args = parser.parse_args()

    layout = PathwayImageLayout.from_collection(synthetic_pathways())
    model = build_survconvmixer(layout, width=args.width, seed=0)
    x = np.random.default_rng(0).random((args.n, *layout.image_shape)).astype('float32')
    loop_x = x[:args.loop_n]
    print(f"SurvConvMixer width {args.width}, {layout.image_side}x{layout.image_side} images, "
          f"TensorFlow {tf.__version__}, devices: {[d.device_type for d in tf.config.list_logical_devices()]}")

    grad_cam(model, x[:8], layout=layout, batch_size=args.batch_size)          # warm-up (tracing)
    compiled_loop(model, x[:2], layout); eager_loop(model, x[:2], layout)
    batched, t_batched = timed(lambda: grad_cam(model, x, layout=layout, batch_size=args.batch_size))
    compiled, t_compiled = timed(compiled_loop, model, loop_x, layout)
    eager, t_eager = timed(eager_loop, model, loop_x, layout)

    scale = max(1e-12, np.abs(batched).max())
    for name, other in (('per-sample compiled', compiled), ('per-sample eager', eager)):
        err = np.abs(batched[:args.loop_n] - other).max() / scale
        if err > 1e-4: raise SystemExit(f"{name} maps differ from the batched ones (max relative error {err:.2g})")

    rate_b, rate_c, rate_e = args.n / t_batched, args.loop_n / t_compiled, args.loop_n / t_eager
    print(f"batched (batch {args.batch_size}, {args.n} samples): {rate_b:10.1f} samples/s")
    print(f"per-sample compiled ({args.loop_n} samples):  {rate_c:10.1f} samples/s")
    print(f"per-sample eager ({args.loop_n} samples):     {rate_e:10.1f} samples/s")
    print(f"speed-up of batched: {rate_b / rate_c:.1f}x over the compiled loop, {rate_b / rate_e:.1f}x over the eager loop")


if __name__ == '__main__':
    main()
