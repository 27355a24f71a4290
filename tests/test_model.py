"""SurvConvMixerClassifier and the image CNN baselines train a compiled twin that later fits reuse
(`training.fit_reusing_network`): a fit must not depend on what the twin trained before, and a fitted estimator must
keep its own weights when the twin trains the next one."""
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import pytest
import random
from survconvmixer import model as M
from survconvmixer import training as T
from survconvmixer.baselines import GeneExpImgTLClassifier, PathCNNClassifier
from survconvmixer.data import minmax_scale_genes
from survconvmixer.demo import simulate_demo
from survconvmixer.labelling import label_cohort


@pytest.fixture(scope='module')
def cohort():
    demo = simulate_demo(n_train=360, n_external=60, n_background_genes=20, seed=3)
    labels = label_cohort(demo.train, 3.0).labels
    X = minmax_scale_genes(demo.train.expression).loc[labels.index]
    return demo.pathways, X, labels.to_numpy()


def forget_networks():
    T._networks.clear()


def scm(pathways, seed, conv1d=False):
    return M.SurvConvMixerClassifier(pathways, conv1d=conv1d, width=16, epochs=3, random_state=seed)


@pytest.mark.parametrize('conv1d', [False, True])
def test_fit_after_another_fit_equals_a_fit_with_no_network_kept(cohort, conv1d):
    pathways, X, y = cohort
    forget_networks()
    first = scm(pathways, 0, conv1d).fit(X, y).predict_proba(X)             # builds the twin
    scm(pathways, 1, conv1d).fit(X.iloc[::2], y[::2])                        # the twin trains another model
    again = scm(pathways, 0, conv1d).fit(X, y).predict_proba(X)              # reuses it
    np.testing.assert_array_equal(first, again)
    assert len(T._networks) == 1


def test_fitted_estimator_keeps_its_weights_when_the_twin_trains_the_next(cohort):
    pathways, X, y = cohort
    a = scm(pathways, 0).fit(X, y)
    before = a.predict_proba(X)
    b = scm(pathways, 7).fit(X.iloc[::2], y[::2])
    assert a.model_ is not b.model_
    np.testing.assert_array_equal(a.predict_proba(X), before)
    assert not np.array_equal(b.predict_proba(X), before)


def test_networks_are_kept_per_architecture_and_bounded(cohort, monkeypatch):
    pathways, X, y = cohort
    forget_networks()
    monkeypatch.setattr(T, 'MAX_REUSED_NETWORKS', 2)
    for width in (8, 12, 16):
        M.SurvConvMixerClassifier(pathways, width=width, epochs=1).fit(X, y)
    kept = list(T._networks)
    assert len(kept) == 2 and ['"filters": 12' in k[0] for k in kept] == [True, False]  # the least recently used went
    assert '"filters": 16' in kept[1][0]


def test_threads_fitting_at_once_match_serial_fits(cohort):
    "Dask workers run tasks in threads: fits hold FIT_LOCK (the kept networks are shared), so they cannot mix."
    pathways, X, y = cohort
    forget_networks()
    serial = [scm(pathways, s).fit(X, y).predict_proba(X) for s in (0, 1)]
    with ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(lambda s: scm(pathways, s).fit(X, y).predict_proba(X), (0, 1)))
    for a, b in zip(serial, threaded): np.testing.assert_array_equal(a, b)


def test_many_fitted_models_predict_without_retracing_warnings(cohort, caplog):
    pathways, X, y = cohort
    with caplog.at_level('WARNING', logger='tensorflow'):
        for seed in range(7):
            M.SurvConvMixerClassifier(pathways, width=8, epochs=1, random_state=seed).fit(X, y).predict_proba(X)
    assert not [r for r in caplog.records if 'retracing' in r.getMessage()], caplog.text


@pytest.mark.parametrize('make', [
    lambda pw, s: GeneExpImgTLClassifier(pw, n_genes=60, filters=8, dense_units=8, epochs=2, random_state=s),
    lambda pw, s: PathCNNClassifier(pw, epochs=2, random_state=s),
    lambda pw, s: GeneExpImgTLClassifier(pw, n_genes=60, filters=8, dense_units=8, epochs=3,
                                         validation_fraction=0.2, patience=1, random_state=s),
], ids=['GeneExpImgTL', 'PathCNN', 'GeneExpImgTL-early-stopping'])
def test_image_cnn_fit_does_not_depend_on_earlier_fits(cohort, make):
    "The CNNs have dropout: the twin must take the new model's dropout seeds too."
    pathways, X, y = cohort
    forget_networks()
    first = make(pathways, 0).fit(X, y).predict_proba(X)
    make(pathways, 5).fit(X.iloc[::2], y[::2])
    np.testing.assert_array_equal(make(pathways, 0).fit(X, y).predict_proba(X), first)


def test_bfloat16_pointwise_is_deterministic_survives_save_load_and_is_not_float32(cohort, tmp_path):
    pathways, X, y = cohort
    make = lambda precision: M.SurvConvMixerClassifier(pathways, width=16, epochs=3, random_state=0,
                                                       precision=precision)
    float32 = make('float32').fit(X, y).predict_proba(X)                 # its own twin: the key names the precision
    bf16 = make('bfloat16_pointwise').fit(X, y)
    p = bf16.predict_proba(X)
    np.testing.assert_array_equal(make('bfloat16_pointwise').fit(X, y).predict_proba(X), p)   # same seed, same
    assert 0 < np.abs(p - float32).max() < 0.1                           # bfloat16 round-off, not another model
    loaded = M.SurvConvMixerClassifier.load(bf16.save(tmp_path / 'bf16.keras'))
    assert loaded.get_params()['precision'] == 'bfloat16_pointwise'
    assert loaded.model_.get_layer('mixer_1_pointwise').matmul_dtype == 'bfloat16'
    np.testing.assert_array_equal(loaded.predict_proba(X), p)


def test_bfloat16_pointwise_conv1d_and_bad_precisions(cohort):
    pathways, X, y = cohort
    conv1d = M.SurvConvMixerClassifier(pathways, conv1d=True, width=16, epochs=2, precision='bfloat16_pointwise')
    assert conv1d.fit(X, y).model_.get_layer('mixer_2_pointwise').matmul_dtype == 'bfloat16'
    with pytest.raises(ValueError, match='needs the fused layers'):
        M.SurvConvMixerClassifier(pathways, width=16, epochs=1, precision='bfloat16_pointwise', fused=False).fit(X, y)
    with pytest.raises(ValueError, match='precision must be one of'):
        M.SurvConvMixerClassifier(pathways, width=16, epochs=1, precision='bf16').fit(X, y)


def test_fit_neither_reads_nor_changes_global_random_state(cohort):
    "Seeds go through each layer and the epoch orders: the user's global generators are untouched and play no part."
    import tensorflow as tf
    pathways, X, y = cohort
    random.seed(1); np.random.seed(1); tf.random.set_seed(1)
    state = (random.getstate(), np.random.get_state()[1].copy())
    first = scm(pathways, 0).fit(X, y).predict_proba(X)
    assert random.getstate() == state[0]
    np.testing.assert_array_equal(np.random.get_state()[1], state[1])
    random.seed(99); np.random.seed(99); tf.random.set_seed(99)
    np.testing.assert_array_equal(scm(pathways, 0).fit(X, y).predict_proba(X), first)


def test_genes_are_matched_by_name(cohort):
    pathways, X, y = cohort
    est = scm(pathways, 0).fit(X, y)
    shuffled = X[list(reversed(X.columns))].assign(extra_gene=1.0)
    np.testing.assert_array_equal(est.predict_proba(shuffled), est.predict_proba(X))
    with pytest.raises(ValueError, match='expecting'):
        est.predict_proba(X.to_numpy()[:, :5])


def test_fit_leaves_op_determinism_to_the_user():
    "TensorFlow's op determinism is process-wide: a fit in a fresh process does not switch it on."
    import subprocess, sys
    code = ("import numpy as np, pandas as pd\n"
            "from survconvmixer.training import KerasClassifier\n"
            "from survconvmixer.model import SurvConvMixerClassifier\n"
            "from survconvmixer.demo import synthetic_pathways\n"
            "from tensorflow.python.framework import config\n"
            "pw = synthetic_pathways()\n"
            "X = pd.DataFrame(np.random.default_rng(0).random((40, len(pw.genes))), columns=pw.genes)\n"
            "SurvConvMixerClassifier(pw, width=4, epochs=1).fit(X, np.arange(40) % 2)\n"
            "print(config.is_op_determinism_enabled())\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == 'False', out.stderr[-2000:]


@pytest.mark.parametrize('pooling', ['average', 'flatten'])
def test_predictions_do_not_depend_on_the_order_of_the_rows(cohort, pooling):
    "scikit-learn's sample-order check asks 1e-7; oneDNN may round a row by its batch position (expected there)."
    pathways, X, y = cohort
    est = M.SurvConvMixerClassifier(pathways, width=16, epochs=2, pooling=pooling).fit(X, y)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(est.predict_proba(X.iloc[order]), est.predict_proba(X)[order], atol=1e-6)


def test_auto_pooling_gives_small_cohorts_the_flattened_head_and_it_survives_save_and_load(cohort, tmp_path):
    pathways, X, y = cohort
    paper = M.SurvConvMixerClassifier(pathways, width=8, steps=5, pooling='average').fit(X, y)   # the paper's
    assert paper.pooling_ == 'average' and paper.model_.get_layer('pool').__class__.__name__ == 'GlobalAveragePooling2D'
    small = M.SurvConvMixerClassifier(pathways, width=8, steps=5).fit(X, y)     # the default, 'auto': ~300 patients
    assert small.pooling == 'auto'
    assert small.pooling_ == 'flatten' and small.model_.get_layer('pool').__class__.__name__ == 'Flatten'
    from survconvmixer.hazard import SurvConvMixerHazard
    assert SurvConvMixerHazard(pathways).pooling == 'average'                       # the hazard network keeps the paper's
    auto = M.SurvConvMixerClassifier(pathways, pooling='auto')
    assert auto._pooling(5000) == 'average' and auto._pooling(300) == 'flatten'
    stopping = M.SurvConvMixerClassifier(pathways, pooling='auto', early_stopping=True)
    assert stopping._pooling(300) == 'average'                                       # early stopping: the paper's
    slots = M.SurvConvMixerClassifier(pathways, width=8, steps=5, pooling='slots').fit(X, y)
    back = M.SurvConvMixerClassifier.load(slots.save(tmp_path / 'slots.keras'))
    assert back.pooling_ == 'slots'
    np.testing.assert_allclose(back.predict_proba(X), slots.predict_proba(X), atol=1e-6)
    with pytest.raises(ValueError, match="pooling must be 'auto' or one of"):
        M.SurvConvMixerClassifier(pathways, width=8, steps=5, pooling='max').fit(X, y)
