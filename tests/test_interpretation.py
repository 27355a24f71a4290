"""Interpretation: Grad-CAM mechanics, the tests and their properties, GSVA/Kaplan–Meier, and the recovery of the
demo's planted pathways (with a random-map negative control that must fail the same criterion)."""
import numpy as np
import pandas as pd
import pytest
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import keras
from hypothesis import given, settings, HealthCheck, strategies as st
from lifelines.statistics import logrank_test
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import roc_auc_score

import survconvmixer.interpretation as interp
from survconvmixer.interpretation import (grad_cam, pathway_cam_table, cams_per_model, aggregate_cams,
                                          wilcoxon_pathways, recovery_against_truth, gsva_scores, km_by_median,
                                          key_pathway_table, interpret_problem, KEY_PATHWAY_COLUMNS, CAM_PRESETS)
from survconvmixer.demo import simulate_demo, synthetic_pathways
from survconvmixer.data import minmax_scale_genes
from survconvmixer.images import PathwayImageLayout
from survconvmixer.labelling import label_cohort
from survconvmixer.model import build_survconvmixer, SurvConvMixerClassifier


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close('all')


# ---------------------------------------------------------------- Grad-CAM mechanics (untrained networks)

@pytest.fixture(scope='module')
def layout():
    return PathwayImageLayout.from_collection(synthetic_pathways())


def _closed_form_cam(net, layout, x):
    "Grad-CAM on the last block of a GAP + Dense(1) head: ReLU(A . w) times the constant mean gradient."
    A = keras.ops.convert_to_numpy(keras.Model(net.input, net.get_layer('feature_map').output)(x))
    A = A.reshape(len(x), layout.grid_side, layout.grid_side, -1)
    w = net.get_layer('logit').get_weights()[0][:, 0]
    n_keep = (~layout.blank_slots).sum()
    cam = np.maximum(A @ w * n_keep / layout.grid_side ** 4, 0)
    cam[:, layout.blank_slots] = 0
    return cam


@pytest.mark.parametrize('conv1d', [False, True])
def test_grad_cam_equals_closed_form_cam(layout, conv1d):
    keras.utils.set_random_seed(1)
    net = build_survconvmixer(layout, width=8, conv1d=conv1d)
    shape = layout.sequence_shape if conv1d else layout.image_shape
    x = np.random.default_rng(0).random((20, *shape)).astype('float32')
    cams = grad_cam(net, x, layout=layout)
    assert cams.shape == (20, 7, 7)
    expected = _closed_form_cam(net, layout, x)
    np.testing.assert_allclose(cams, expected, atol=1e-6 * max(1.0, expected.max()))
    assert cams.max() > 0


@pytest.mark.parametrize('conv1d', [False, True])
@pytest.mark.parametrize('pooling', ['flatten', 'slots'])
def test_maps_behind_a_head_with_weights_per_slot_are_each_slots_share_of_the_logit(layout, conv1d, pooling):
    "Behind a per-slot head the default maps are HiResCAM: signed, they add up to the logit less the bias."
    keras.utils.set_random_seed(6)
    net = build_survconvmixer(layout, width=8, conv1d=conv1d, pooling=pooling)
    w, b = net.get_layer('logit').get_weights()
    net.get_layer('logit').set_weights([w * 50, b + 0.3])
    if pooling == 'slots':   # trained slot weights, not the average they start from
        pool = net.get_layer('pool')
        pool.set_weights([np.random.default_rng(1).random(pool.get_weights()[0].shape).astype('float32')])
    assert interp.cam_method(net) == 'hirescam' and interp.cam_method(net, 'gradcam') == 'gradcam'
    shape = layout.sequence_shape if conv1d else layout.image_shape
    x = np.random.default_rng(0).random((12, *shape)).astype('float32')
    logit = keras.ops.convert_to_numpy(keras.Model(net.input, net.get_layer('logit').output)(x))[:, 0]
    signed = grad_cam(net, x, layout=layout, relu=False)
    np.testing.assert_allclose(signed.sum(axis=(1, 2)) + 0.3, logit, atol=1e-4 * max(1.0, np.abs(logit).max()))
    np.testing.assert_allclose(grad_cam(net, x, layout=layout), np.maximum(signed, 0), atol=1e-7)
    averaged = grad_cam(net, x, layout=layout, method='gradcam')   # the paper's averaged gradient: other maps
    assert np.abs(averaged - np.maximum(signed, 0)).max() > 0.05 * np.abs(signed).max()


def test_paper_maps_of_a_fitted_flattened_model_survive_save_and_load(tmp_path):
    "The 'paper' preset picks HiResCAM from the network itself, so a loaded model gives the same maps."
    from survconvmixer.deploy import load_estimator, save_estimator
    demo = simulate_demo(n_train=120, n_external=20, n_background_genes=5, seed=3)
    labels = label_cohort(demo.train, 3).labels
    X = minmax_scale_genes(demo.train.expression).loc[labels.index]
    est = SurvConvMixerClassifier(demo.pathways, width=8, steps=5, pooling='flatten', random_state=0).fit(X, labels)
    back = load_estimator(tmp_path / save_estimator(est, tmp_path / 'm'), 'SurvConvMixer')
    paper = cams_per_model([est], X.iloc[:10], preset='paper')[0]
    hires = pathway_cam_table(grad_cam(est, X.iloc[:10], method='hirescam'), est.layout_, index=X.index[:10])
    pd.testing.assert_frame_equal(paper, hires)
    pd.testing.assert_frame_equal(cams_per_model([back], X.iloc[:10], preset='paper')[0], paper, atol=1e-6)


@pytest.mark.parametrize('batch_size', [1, 7, 256])
def test_batch_size_does_not_change_maps(layout, batch_size):
    keras.utils.set_random_seed(2)
    net = build_survconvmixer(layout, width=8)
    x = np.random.default_rng(1).random((15, *layout.image_shape)).astype('float32')
    for preset in CAM_PRESETS.values():
        ref = grad_cam(net, x, layout=layout, batch_size=256, **{k: v for k, v in preset.items() if k != 'baseline'})
        got = grad_cam(net, x, layout=layout, batch_size=batch_size, **{k: v for k, v in preset.items() if k != 'baseline'})
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)


def test_mean_baseline_centres_the_linear_head(layout):
    "On `feature_map` the gradient is the same for all samples, so signed maps against the mean average to 0."
    keras.utils.set_random_seed(3)
    net = build_survconvmixer(layout, width=8)
    x = np.random.default_rng(2).random((30, *layout.image_shape)).astype('float32')
    signed = grad_cam(net, x, layout=layout, method='hirescam', baseline='mean', relu=False)
    raw = grad_cam(net, x, layout=layout, method='hirescam', relu=False)
    assert np.abs(raw.mean(axis=0)).max() > 1e-6
    np.testing.assert_allclose(signed.mean(axis=0), 0, atol=1e-6 * np.abs(raw).max())


def test_maps_of_many_models_do_not_warn_about_retracing(layout, caplog):
    "One compiled map function per model, each traced once: TensorFlow must not call that frequent retracing."
    x = np.random.default_rng(4).random((9, *layout.image_shape)).astype('float32')
    keras.utils.set_random_seed(5)
    nets = [build_survconvmixer(layout, width=4) for _ in range(7)]
    with caplog.at_level('WARNING', logger='tensorflow'):
        for net in nets:
            for size in (9, 4):  # two batch sizes per model: still one trace (the batch dimension is open)
                grad_cam(net, x[:size], layout=layout)
    assert not [r for r in caplog.records if 'retracing' in r.getMessage()], caplog.text


def test_mixed_precision_network(layout):
    keras.utils.set_random_seed(4)
    net = build_survconvmixer(layout, width=8, precision='mixed_bfloat16')
    x = np.random.default_rng(3).random((6, *layout.image_shape)).astype('float32')
    cams = grad_cam(net, x, layout=layout)
    assert cams.dtype == np.float64 and np.isfinite(cams).all() and cams.shape == (6, 7, 7)


def test_bad_inputs_are_named(layout):
    net = build_survconvmixer(layout, width=4)
    with pytest.raises(ValueError, match='needs the image layout'): grad_cam(net, np.zeros((1, 49, 49, 1)))
    with pytest.raises(ValueError, match="baseline must be"): grad_cam(net, np.zeros((1, 49, 49, 1)), layout=layout, baseline='median')
    with pytest.raises(ValueError, match="layer's shape"):
        grad_cam(net, np.zeros((1, 49, 49, 1)), layout=layout, baseline=np.zeros((7, 7, 5)))
    with pytest.raises(ValueError, match='one per slot'): grad_cam(net, np.zeros((1, 49, 49, 1)), layout=layout, layer='image')


def test_pathway_table_follows_slots(layout):
    cams = np.random.default_rng(0).random((5, 7, 7))
    t = pathway_cam_table(cams, layout, index=list('abcde'))
    for name in layout.pathway_names[::7]:
        r, c = layout.slot_of(name)
        np.testing.assert_array_equal(t[name].to_numpy(), cams[:, r, c])
    assert t.shape == (5, layout.n_pathways)


# ---------------------------------------------------------------- aggregation and tests: properties

@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.1, 100), min_size=1, max_size=4), st.integers(0, 10_000))
def test_max_normalisation_removes_model_scale(scales, seed):
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(rng.random((12, 3)), index=[f's{i}' for i in range(12)], columns=['A', 'B', 'C'])
    tables = [base * s for s in scales]
    np.testing.assert_allclose(aggregate_cams(tables).to_numpy(), (base / base.to_numpy().max()).to_numpy(), rtol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(4, 30), st.integers(4, 30))
def test_wilcoxon_properties(seed, n1, n0):
    "Rank test: unchanged by increasing transforms; swapping the labels negates the effect; Bonferroni = min(1, m p)."
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.integers(0, 6, (n1 + n0, 5)).astype(float), columns=list('VWXYZ'))  # many ties
    y = np.r_[np.ones(n1, int), np.zeros(n0, int)]
    res = wilcoxon_pathways(table, y)
    res_t = wilcoxon_pathways(3 * table ** 3 + 1, y)
    np.testing.assert_allclose(res_t.p, res.p, rtol=1e-10)
    flipped = wilcoxon_pathways(table, 1 - y)
    np.testing.assert_allclose(flipped.effect, -res.effect, atol=1e-12)
    np.testing.assert_allclose(flipped.p, res.p, rtol=1e-10)
    np.testing.assert_allclose(res.p_bonferroni, np.minimum(1, 5 * res.p))
    assert ((res.effect >= -1) & (res.effect <= 1)).all()
    np.testing.assert_array_equal(res.significant, res.p_bonferroni < 0.05)


def test_key_pathway_table_columns():
    res = pd.DataFrame({'pathway': ['A', 'B'], 'statistic': [1., 2.], 'p': [.001, .5], 'p_bonferroni': [.002, 1.],
                        'significant': [True, False]})
    data = pd.DataFrame({'time': np.arange(1., 11), 'event': [1, 0] * 5})
    scores = pd.DataFrame({'A': np.arange(10.)})
    km = km_by_median(scores, data.time, data.event, 'A')
    t = key_pathway_table('LUAD-mid', res, [km])
    assert list(t.columns) == KEY_PATHWAY_COLUMNS == ['problem', 'pathway', 'statistic', 'p', 'p_bonferroni',
                                                      'significant', 'logrank_p', 'n_km', 'logrank_p_external',
                                                      'n_km_external']
    assert t.logrank_p.iloc[0] == km.logrank_p and np.isnan(t.logrank_p.iloc[1])
    assert t.n_km.tolist() == [10, 0] and t.logrank_p_external.isna().all()
    with pytest.raises(ValueError, match='not key pathways'):
        key_pathway_table('x', res.assign(significant=False), [km])


def test_km_by_median_matches_lifelines():
    rng = np.random.default_rng(0)
    n = 101
    scores = pd.DataFrame({'P': rng.normal(size=n)}, index=[f's{i}' for i in range(n)])
    time = pd.Series(rng.exponential(3, n) * np.exp(-scores.P), index=scores.index)
    event = pd.Series(rng.integers(0, 2, n), index=scores.index)
    res = km_by_median(scores, time.sample(frac=1, random_state=1), event, 'P')   # aligned by sample id
    high = scores.P > scores.P.median()
    assert (res.n_high, res.n_low) == (50, 51)
    expected = logrank_test(time[high], time[~high], event[high], event[~high]).p_value
    assert res.logrank_p == pytest.approx(expected, rel=1e-12)
    assert (res.data.group == 'high').sum() == 50


def test_gsva_scores_track_simulated_activity():
    demo = simulate_demo(n_train=200, n_external=20, n_background_genes=20, seed=3)
    scores = gsva_scores(demo.train.expression, demo.pathways)
    assert list(scores.columns) == demo.pathways.names and list(scores.index) == list(demo.train.expression.index)
    act = demo.activities['train']
    r = [np.corrcoef(scores[p], act[p])[0, 1] for p in demo.pathways.names]
    assert np.median(r) > 0.7, r
    # same scores after min-max scaling (GSVA's kernel CDF is invariant to a per-gene affine transform)
    np.testing.assert_allclose(gsva_scores(minmax_scale_genes(demo.train.expression), demo.pathways), scores, atol=1e-6)


# ---------------------------------------------------------------- recovery of the demo's planted pathways

@pytest.fixture(scope='module')
def demo_models():
    "3-fold CV models on the demo's 3-year problem, with each fold's held-out samples (the paper's average pooling)."
    demo = simulate_demo(n_train=1500, n_external=100, n_background_genes=20, seed=0)
    labels = label_cohort(demo.train, 3).labels
    X = minmax_scale_genes(demo.train.expression).loc[labels.index]
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, labels))
    models = [SurvConvMixerClassifier(demo.pathways, width=64, learning_rate=3e-4, epochs=30, pooling='average', random_state=k)
              .fit(X.iloc[tr], labels.iloc[tr]) for k, (tr, _) in enumerate(folds)]
    aucs = [roc_auc_score(labels.iloc[te], m.predict_proba(X.iloc[te])[:, 1]) for m, (_, te) in zip(models, folds)]
    print('held-out AUC per fold', np.round(aucs, 3))
    return dict(demo=demo, labels=labels, X=X, models=models, held_out=[X.index[te] for _, te in folds], aucs=aucs)


def _passes(rec: dict, demo) -> bool:
    """The recovery criterion: both linear effects (risk and protective) found, at least 2 of the 4 planted
    pathways found, and at most one of the 36 unplanted pathways called key."""
    linear = [p for p, e in demo.truth.effects.items() if e['kind'].startswith('linear')]
    return set(linear) <= set(rec['recovered']) and rec['n_recovered'] >= 2 and rec['n_false_positives'] <= 1


def _recovery(tables, d):
    return recovery_against_truth(wilcoxon_pathways(aggregate_cams(tables), d['labels']), d['demo'].truth.planted_pathways)


def test_models_learn_the_signal(demo_models):
    assert min(demo_models['aucs']) > 0.6, demo_models['aucs']


def test_embedding_maps_on_held_out_samples_recover_planted_pathways(demo_models):
    d = demo_models
    rec = _recovery(cams_per_model(d['models'], d['X'], held_out=d['held_out'], preset='embedding'), d)
    kinds = [d['demo'].truth.effects[p]['kind'] for p in rec['recovered']]
    print(f"recovered {rec['n_recovered']}/4 ({kinds}), false positives {rec['n_false_positives']}/36")
    assert _passes(rec, d['demo']), rec


def test_random_maps_fail_the_criterion(demo_models):
    "Negative control: the same procedure on random maps of the same shape finds nothing."
    d = demo_models
    rng = np.random.default_rng(0)
    tables = [pd.DataFrame(rng.random((len(h), 40)), index=h, columns=d['demo'].pathways.names) for h in d['held_out']]
    rec = _recovery(tables, d)
    assert rec['n_recovered'] == 0 and not _passes(rec, d['demo'])


def test_interpret_problem_end_to_end_and_random_control(demo_models, tmp_path, monkeypatch):
    d, demo = demo_models, demo_models['demo']
    args = ('demo-mid', d['models'], d['X'], d['labels'], demo.train.os_years(), demo.train.os_event, demo.pathways)
    out = interpret_problem(*args, out_dir=tmp_path, held_out=d['held_out'], preset='embedding',
                            survival_expression=demo.train.expression)
    table = out['key_pathways']
    assert list(table.columns) == KEY_PATHWAY_COLUMNS and len(table) == 40
    assert table.logrank_p.notna().tolist() == table.significant.tolist()
    rec = recovery_against_truth(out['wilcoxon'], demo.truth.planted_pathways)
    assert _passes(rec, demo)
    linear = next(p for p, e in demo.truth.effects.items() if e['kind'] == 'linear')
    assert table.set_index('pathway').logrank_p[linear] < 1e-3        # the GSVA median split separates survival
    saved = sorted(p.name for p in (tmp_path / 'figures').iterdir())
    assert saved == sorted(f'demo-mid_{n}.png' for n in out['figures']) and 'demo-mid_km.png' in saved

    # replace Grad-CAM by random maps: the same call must no longer pass
    rng = np.random.default_rng(1)
    monkeypatch.setattr(interp, 'grad_cam', lambda est, X, **kw: rng.random((len(X), 7, 7)))
    out_random = interpret_problem(*args, held_out=d['held_out'], preset='embedding')
    rec_random = recovery_against_truth(out_random['wilcoxon'], demo.truth.planted_pathways)
    assert rec_random['n_recovered'] == 0 and not _passes(rec_random, demo)


def test_paper_gradcam_is_not_pathway_specific(demo_models):
    """Characterises the paper's Grad-CAM (last block) on training samples: it finds the strongest planted pathway
    but also many unplanted ones, because two 3x3 depthwise convolutions mix each slot with its 5x5 neighbourhood."""
    d = demo_models
    rec = _recovery(cams_per_model(d['models'], d['X'], preset='paper'), d)
    linear = next(p for p, e in d['demo'].truth.effects.items() if e['kind'] == 'linear')
    print(f"paper Grad-CAM, all samples: recovered {rec['n_recovered']}/4, false positives {rec['n_false_positives']}/36")
    assert linear in rec['recovered']
    assert rec['n_false_positives'] >= 10
