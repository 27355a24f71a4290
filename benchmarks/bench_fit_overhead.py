"""Per-fit overhead of the validation grid's Keras fits: the earlier way against the package's, in one run.

    python benchmarks/bench_fit_overhead.py [--folds 3] [--rounds 2]

The quick preset fits SurvConvMixer once per fold. Before 2026-12-01 every fit built and compiled a new Keras
model (so Keras traced its training and evaluation steps again) and fed it a `tf.data` pipeline with autotuning
on, plus NumPy arrays for validation and prediction (which Keras turns into autotuned pipelines). The package
now trains a compiled twin that later fits reuse (`model.fit_reusing_network`) and feeds it pipelines without
autotuning (`model.batches`).

The script fits the 3-year problem's `--folds` CV folds of the demo (2,200 training samples, the quick
preset's data) both ways, alternating the two ways fold by fold for `--rounds` rounds so that a machine whose
speed drifts treats them alike. It prints seconds per fit (fit + two predictions), the speed-up, and whether
the two ways predict the same external cohort bit for bit (they must: only tracing and waiting are saved).
"""
import argparse, os, time
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
import tensorflow as tf
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils.class_weight import compute_class_weight
from survconvmixer.data import minmax_scale_genes
from survconvmixer.demo import simulate_demo
from survconvmixer.images import PathwayImageLayout
from survconvmixer.labelling import label_cohort
from survconvmixer.model import SurvConvMixerClassifier, build_survconvmixer


def earlier_fit(est: SurvConvMixerClassifier, X, y, X_test, X_external) -> np.ndarray:
    "The estimator's fit as it was: a new compiled model per fit, autotuned pipelines, NumPy validation data."
    est.layout_ = PathwayImageLayout.from_collection(est.pathways)
    inputs = est._inputs(X)
    keras.backend.clear_session()
    keras.utils.set_random_seed(est.random_state)
    tf.config.experimental.enable_op_determinism()
    model = build_survconvmixer(est.layout_, est.width, est.depth, est.kernel_size, est.conv1d,
                                precision=est.precision, seed=est.random_state, fused=est.fused)
    model.compile(optimizer=keras.optimizers.AdamW(est.learning_rate, weight_decay=est.weight_decay),
                  loss='binary_crossentropy', metrics=[keras.metrics.AUC(name='auc')])
    fit_x, val_x, fit_y, val_y = train_test_split(inputs, y.astype('float32'), test_size=est.validation_fraction,
                                                  stratify=y, random_state=est.random_state)
    w = compute_class_weight('balanced', classes=np.array([0., 1.]), y=fit_y)
    weights = np.where(fit_y == 1, w[1], w[0]).astype('float32')
    train = (tf.data.Dataset.from_tensor_slices((fit_x, fit_y, weights))
             .shuffle(len(fit_x), seed=est.random_state, reshuffle_each_iteration=True)
             .batch(est.batch_size).prefetch(tf.data.AUTOTUNE))
    model.fit(train, validation_data=(val_x, val_y), epochs=est.DEFAULT_EPOCHS, shuffle=False, verbose=0,
              callbacks=[keras.callbacks.EarlyStopping('val_loss', patience=est.patience, restore_best_weights=True)])
    model.predict(est._inputs(X_test), batch_size=1024, verbose=0)
    return model.predict(est._inputs(X_external), batch_size=1024, verbose=0).reshape(-1)


def package_fit(est: SurvConvMixerClassifier, X, y, X_test, X_external) -> np.ndarray:
    est.fit(X, y)
    est.predict_proba(X_test)
    return est.predict_proba(X_external)[:, 1].astype('float32')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--folds', type=int, default=3)
    ap.add_argument('--rounds', type=int, default=2)
    args = ap.parse_args()
    demo = simulate_demo(n_train=2200, n_external=170)
    labels = label_cohort(demo.train, 3.0).labels
    X = minmax_scale_genes(demo.train.expression).loc[labels.index]
    X_external = minmax_scale_genes(demo.external.expression)
    y = labels.to_numpy()
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))[:args.folds]
    times = {'earlier': [], 'package': []}
    same = True
    for _ in range(args.rounds):
        for i, (tr, te) in enumerate(splits):
            preds = {}
            for way, fn in [('earlier', earlier_fit), ('package', package_fit)]:
                est = SurvConvMixerClassifier(demo.pathways, random_state=i)
                start = time.perf_counter()
                preds[way] = fn(est, X.iloc[tr], y[tr], X.iloc[te], X_external)
                times[way].append(time.perf_counter() - start)
            same &= bool(np.array_equal(preds['earlier'], preds['package']))
            print(f"fold {i}: earlier {times['earlier'][-1]:.2f} s, package {times['package'][-1]:.2f} s", flush=True)
    # the first fit of each way pays for building its functions once per process: report it apart
    for way, t in times.items():
        print(f"{way:>8}: first fit {t[0]:.2f} s, later fits mean {np.mean(t[1:]):.2f} s (n={len(t) - 1})")
    ratio = np.mean(times['earlier'][1:]) / np.mean(times['package'][1:])
    print(f"speed-up per fit (later fits): {ratio:.2f}x; identical external predictions: {same}")


if __name__ == '__main__':
    main()
