"""Tests of survconvmixer.baselines (through the method registry): every comparison method fits and beats chance on an easy signal,
follows the scikit-learn estimator contract, and learns nothing from rows it was not given."""
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.feature_selection import mutual_info_classif
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, cross_val_score

from survconvmixer.baselines import (
    PAPER_GRIDS, PAPER_HYPERPARAMETERS, CoxElasticNetRisk, PathwayGeneSelector, RandomSurvivalForestRisk, gene_groups_from_pathways, grid_search_method, is_survival_estimator, make_classical,
    mutual_info_genes, treemap_layout, treemap_pixel_weights)
from survconvmixer.data import minmax_scale_genes
from survconvmixer.methods import METHODS, get_method
from survconvmixer.pathways import PathwayCollection
from survconvmixer.results import PAPER_AUC, fold_table, mean_auc_table, plot_auc_distributions, plot_radar

BENCHMARKS = [m for m in METHODS if not m.startswith('SurvConvMixer')]  # SurvConvMixer: tests/test_model.py
CNNS = ['GeneExpImgTL', 'PathCNN']


# ----------------------------------------------------------------------------------------------- data
def _pathways() -> PathwayCollection:
    "Six pathways of six genes (the first two carry the signal) and one gene shared by two pathways."
    genes = {f'P{p}': [f'P{p}G{g}' for g in range(6)] for p in range(1, 7)}
    genes['P6'][-1] = 'P5G0'  # a gene in two pathways
    return PathwayCollection.from_dict(genes, name='test-6')


def _cohort(rng, n: int, pathways: PathwayCollection, platform_shift: bool):
    "Expression (min-max scaled per cohort), 0/1 labels and survival: death risk driven by pathways P1 and P2."
    z = rng.standard_normal((n, 2))
    genes = pathways.genes
    X = rng.standard_normal((n, len(genes))) * 0.5
    for j, g in enumerate(genes):
        if g.startswith('P1'): X[:, j] += z[:, 0]
        if g.startswith('P2'): X[:, j] -= z[:, 1]
    background = rng.standard_normal((n, 30))
    values = np.hstack([X, background])
    if platform_shift:  # another platform: per-gene affine change and extra noise
        values = rng.uniform(0.5, 1.5, values.shape[1]) * values + rng.uniform(-1, 1, values.shape[1]) \
            + 0.2 * rng.standard_normal(values.shape)
    prefix = 'EXT' if platform_shift else 'TR'
    frame = pd.DataFrame(values, index=[f'{prefix}{i:03d}' for i in range(n)],
                         columns=genes + [f'BG{i:02d}' for i in range(30)])
    risk = 1.3 * (z[:, 0] + z[:, 1])
    labels = pd.Series((risk + 0.6 * rng.standard_normal(n) > 0).astype(int), index=frame.index, name='label')
    event_time = rng.exponential(np.exp(-risk) * 3)
    censor = rng.uniform(0.5, 8, n)
    surv = np.empty(n, dtype=[('event', bool), ('time', float)])
    surv['event'], surv['time'] = event_time <= censor, np.minimum(event_time, censor)
    return minmax_scale_genes(frame), labels, surv


@pytest.fixture(scope='module')
def data():
    rng = np.random.default_rng(2024)
    pw = _pathways()
    Xtr, ytr, str_ = _cohort(rng, 220, pw, platform_shift=False)
    Xex, yex, sex = _cohort(rng, 120, pw, platform_shift=True)
    return dict(pw=pw, Xtr=Xtr, ytr=ytr, str=str_, Xex=Xex, yex=yex, sex=sex)


def _make(name, pw, random_state=0, **params):
    "A fast estimator; the CNNs get a small image budget suited to 76 genes."
    if name == 'GeneExpImgTL':
        return METHODS['GeneExpImgTL'](pw, random_state=random_state, quick=True, n_genes=40, image_side=12, **params)
    return METHODS[name](pw, random_state=random_state, quick=True) if not params else \
        METHODS[name](pw, random_state=random_state, quick=True).set_params(**params)


def _fit(est, d, X=None, rows=None):
    X = d['Xtr'] if X is None else X
    rows = slice(None) if rows is None else rows
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='Stochastic Optimizer')  # fast MLP: few epochs on purpose
        if is_survival_estimator(est): return est.fit(X.iloc[rows], d['str'][rows])
        return est.fit(X.iloc[rows], d['ytr'].iloc[rows])


def _score(est, X) -> np.ndarray:
    return est.predict_proba(X)[:, 1] if hasattr(est, 'predict_proba') else est.predict(X)


def _state(est) -> list[np.ndarray]:
    "Everything a fitted estimator learnt, as arrays (model weights, selected genes, PCs, coefficients)."
    if hasattr(est, 'model_') and hasattr(est.model_, 'get_weights'):  # Keras CNNs
        out = [np.asarray(w) for w in est.model_.get_weights()]
        if hasattr(est, 'mi_'): out += [est.mi_.to_numpy(), np.asarray(est.selected_genes_), est.pixel_weights_]
        if hasattr(est, 'pcas_'): out += [a for p in est.pcas_ for a in (p.components_, p.mean_)]
        return out
    if isinstance(est, CoxElasticNetRisk):
        return [est.coef_.to_numpy(), np.asarray([est.alpha_]), est.cv_scores_.to_numpy()]
    if isinstance(est, RandomSurvivalForestRisk):     # the forest's predictions at fixed probe points
        genes = est.selector_.genes_
        probe = pd.DataFrame(np.linspace(0, 1, 3 * len(genes)).reshape(3, -1), columns=genes)
        return [est.predict(probe), est.predict_survival(probe, [0.5, 1, 2, 3]).to_numpy()]
    model = est.named_steps['model']
    genes = est.named_steps['genes'].genes_
    probe = pd.DataFrame(np.linspace(0, 1, 3 * len(genes)).reshape(3, -1), columns=genes)  # fixed probe points
    return [model.predict_proba(probe), np.asarray(est.named_steps['genes'].genes_)]


def _assert_same_state(a, b):
    sa, sb = _state(a), _state(b)
    assert len(sa) == len(sb)
    for x, y in zip(sa, sb): np.testing.assert_array_equal(x, y)


# ----------------------------------------------------------------------------------------------- accuracy
@pytest.mark.parametrize('name', BENCHMARKS)
def test_beats_chance_on_held_out_data(data, name):
    est = _fit(_make(name, data['pw']), data)
    internal = _score(est, data['Xtr'])
    external = _score(est, data['Xex'])
    assert internal.shape == (len(data['Xtr']),) and external.shape == (len(data['Xex']),)
    assert np.isfinite(external).all()
    if hasattr(est, 'predict_proba'):
        proba = est.predict_proba(data['Xex'])
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
        assert ((proba >= 0) & (proba <= 1)).all()
    # the external cohort is another platform and was never seen: the signal must still be found
    assert roc_auc_score(data['yex'], external) > 0.6, name


def test_methods_registry_names():
    assert BENCHMARKS == ['KNN', 'SVM', 'RandomForest', 'LogisticRegression', 'MLP', 'GeneExpImgTL', 'PathCNN',
                          'CoxNet', 'RandomSurvivalForest']
    with pytest.raises(KeyError, match='unknown method'): get_method('DeepSurv')
    assert get_method('KNN') is METHODS['KNN']


def test_paper_hyperparameters_are_the_defaults():
    pw = _pathways()
    for name, params in PAPER_HYPERPARAMETERS.items():
        got = METHODS[name](pw).get_params()
        for key, value in params.items():
            prefix = 'model__estimator__' if name == 'SVM' else 'model__'
            assert got[prefix + key] == value, (name, key)
    assert METHODS['RandomForest'](pw).get_params()['model__n_estimators'] == 250
    assert METHODS['RandomForest'](pw, quick=True).get_params()['model__n_estimators'] == 50


# ----------------------------------------------------------------------------------------------- sklearn contract
@pytest.mark.parametrize('name', BENCHMARKS)
def test_clone_and_params_round_trip(name):
    pw = _pathways()
    est = METHODS[name](pw, random_state=3, quick=True)
    twin = clone(est)
    assert type(twin) is type(est) and twin is not est
    p, q = est.get_params(deep=True), twin.get_params(deep=True)
    assert p.keys() == q.keys()
    for key in p:
        if isinstance(p[key], PathwayCollection): assert p[key].to_dict() == q[key].to_dict()
        else: assert repr(p[key]) == repr(q[key]), key
    twin.set_params(**twin.get_params(deep=False))  # the round trip is accepted
    key = {'KNN': 'model__n_neighbors', 'SVM': 'model__estimator__C', 'RandomForest': 'model__max_depth',
           'LogisticRegression': 'model__C', 'MLP': 'model__alpha', 'GeneExpImgTL': 'epochs', 'PathCNN': 'epochs',
           'CoxNet': 'l1_ratio', 'RandomSurvivalForest': 'min_samples_leaf'}[name]
    twin.set_params(**{key: 3})
    assert twin.get_params()[key] == 3 and est.get_params()[key] != 3


@pytest.mark.parametrize('name', ['KNN', 'LogisticRegression', 'GeneExpImgTL', 'PathCNN'])
def test_cross_val_score_works(data, name):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        scores = cross_val_score(_make(name, data['pw']), data['Xtr'], data['ytr'], cv=3, scoring='roc_auc')
    assert scores.shape == (3,) and np.isfinite(scores).all()
    assert scores.mean() > 0.6


def test_cross_val_score_cox_uses_concordance(data):
    scores = cross_val_score(METHODS['CoxNet'](data['pw'], quick=True), data['Xtr'], data['str'],
                             cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and (scores > 0.6).all()


@pytest.mark.parametrize('name', CNNS)
def test_fitted_cnn_pickles(data, name):
    est = _fit(_make(name, data['pw'], epochs=2), data)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(_score(again, data['Xex']), _score(est, data['Xex']), rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------------------------- no leakage
@pytest.mark.parametrize('name', BENCHMARKS)
def test_no_leakage_from_the_external_cohort(data, name):
    """Two fits on the same training rows with the same seed, one of which then scores a shuffled and
    altered external cohort: both learnt exactly the same thing, and scoring never changes a fitted model."""
    rng = np.random.default_rng(7)
    first = _fit(_make(name, data['pw']), data)
    external_before = _score(first, data['Xex'])
    altered = data['Xex'].sample(frac=1.0, random_state=1)
    altered = (altered * rng.uniform(0.2, 3.0, altered.shape[1]) + rng.normal(0, 1, altered.shape)).abs()
    second = _fit(_make(name, data['pw']), data)
    _score(second, altered)            # the altered external cohort passes through the fitted model
    _assert_same_state(first, second)  # ... and changes nothing it learnt
    np.testing.assert_array_equal(_score(second, data['Xex']), external_before)  # same seed: same predictions
    np.testing.assert_array_equal(_score(first, data['Xex']), external_before)   # scoring is read-only


@pytest.mark.parametrize('name', CNNS)
def test_the_seed_matters(data, name):
    "The determinism above is not vacuous: another seed gives another network."
    a = _fit(_make(name, data['pw'], epochs=2), data)
    b = _fit(_make(name, data['pw'], random_state=1, epochs=2), data)
    assert not np.allclose(_score(a, data['Xex']), _score(b, data['Xex']))


def test_pathcnn_pca_sees_only_training_rows(data):
    rows = np.arange(0, 220, 2)  # rows A: every other training sample
    both = pd.concat([data['Xtr'], data['Xex']])
    est = _fit(METHODS['PathCNN'](data['pw'], quick=True, epochs=1), data, X=both, rows=rows)
    block_a = both.iloc[rows]
    for p, pca in zip(data['pw'], est.pcas_):
        by_hand = PCA(n_components=5, svd_solver='full').fit(block_a[list(p.genes)].to_numpy())
        np.testing.assert_allclose(pca.components_, by_hand.components_, atol=1e-10)
        np.testing.assert_allclose(pca.mean_, by_hand.mean_, atol=1e-12)
    # a PCA that had seen the other rows would differ
    first = list(data['pw'][0].genes)
    assert not np.allclose(PCA(5, svd_solver='full').fit(both[first].to_numpy()).mean_, est.pcas_[0].mean_)
    # the images of new samples use the fitted PCs
    image = est.transform_images(data['Xex'].iloc[:3])
    np.testing.assert_allclose(image[:, 0, :, 0], est.pcas_[0].transform(data['Xex'].iloc[:3][first].to_numpy()),
                               rtol=1e-5, atol=1e-6)


def test_geneexpimgtl_mutual_information_sees_only_training_rows(data):
    rows = np.arange(1, 220, 2)
    est = _fit(_make('GeneExpImgTL', data['pw'], epochs=1), data, rows=rows)
    X_a, y_a = data['Xtr'].iloc[rows], data['ytr'].iloc[rows]
    by_hand = mutual_info_classif(X_a.to_numpy(), y_a.to_numpy(), n_neighbors=3, random_state=0)
    np.testing.assert_array_equal(est.mi_.to_numpy(), by_hand)     # mutual_info_genes: scikit-learn's numbers
    assert est.selected_genes_ == list(X_a.columns[np.argsort(-by_hand, kind='stable')[:40]])
    all_rows = mutual_info_classif(data['Xtr'].to_numpy(), data['ytr'].to_numpy(), n_neighbors=3, random_state=0)
    assert not np.allclose(est.mi_.to_numpy(), all_rows)
    # the genes of the informative pathways carry much more information than the others
    signal = est.mi_.index.str.startswith(('P1', 'P2'))
    assert est.mi_[signal].mean() > 3 * est.mi_[~signal].mean()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 80), n_genes=st.integers(1, 12), n_classes=st.integers(1, 3), k=st.integers(1, 5),
       decimals=st.sampled_from([None, 0, 1]), seed=st.integers(0, 10_000))
def test_mutual_info_genes_equals_scikit_learn(n, n_genes, n_classes, k, decimals, seed):
    "Bit for bit, whatever the ties (rounded values), class sizes (one-sample classes included) and k."
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_genes)) * rng.choice([1e-3, 1.0, 1e3], n_genes)
    if decimals is not None: X = np.round(X, decimals)
    y = rng.integers(0, n_classes, n)
    if len(np.unique(y)) < 2 or np.bincount(y).max() < 2: return   # scikit-learn needs a class of two or more
    expected = mutual_info_classif(X, y, discrete_features=False, n_neighbors=k, random_state=seed)
    np.testing.assert_array_equal(mutual_info_genes(X, y, n_neighbors=k, random_state=seed, chunk=5), expected)


def test_coxnet_penalty_and_coefficients_from_training_rows_only(data):
    from sksurv.linear_model import CoxnetSurvivalAnalysis
    rows = np.arange(0, 220, 2)
    est = _fit(METHODS['CoxNet'](data['pw'], quick=True), data, rows=rows)
    X_a = data['Xtr'].iloc[rows][est.selector_.genes_].to_numpy()
    by_hand = CoxnetSurvivalAnalysis(l1_ratio=0.5, n_alphas=20, alpha_min_ratio=0.01).fit(X_a, data['str'][rows])
    np.testing.assert_allclose(est.model_.alphas_, by_hand.alphas_)
    np.testing.assert_allclose(est.predict(data['Xex']),
                               by_hand.predict(data['Xex'][est.selector_.genes_].to_numpy(), alpha=est.alpha_))
    assert est.alpha_ in set(by_hand.alphas_)
    # the signal genes carry the largest coefficients
    top = est.coef_.abs().sort_values(ascending=False).index[:6]
    assert sum(g.startswith(('P1', 'P2')) for g in top) >= 5


def test_grid_search_on_training_rows_only_and_deterministic(data):
    grid = {'model__n_neighbors': [2, 5, 15], 'model__p': [1, 2]}
    a = grid_search_method('KNN', data['Xtr'], data['ytr'], data['pw'], cv=3, grid=grid)
    a.predict_proba(data['Xex'].sample(frac=1.0, random_state=3) * 2)
    b = grid_search_method('KNN', data['Xtr'], data['ytr'], data['pw'], cv=3, grid=grid)
    assert a.best_params_ == b.best_params_
    np.testing.assert_array_equal(a.cv_results_['mean_test_score'], b.cv_results_['mean_test_score'])
    assert len(a.cv_results_['params']) == 6
    # the search really depends on its training rows
    c = grid_search_method('KNN', data['Xtr'].iloc[:110], data['ytr'].iloc[:110], data['pw'], cv=3, grid=grid)
    assert not np.array_equal(a.cv_results_['mean_test_score'], c.cv_results_['mean_test_score'])


def test_paper_grids_contain_the_paper_choices():
    pw = _pathways()
    for name, grid in PAPER_GRIDS.items():
        params = make_classical(name, pw).get_params()
        assert set(grid) <= set(params), name
        for key, values in grid.items(): assert params[key] in values, (name, key)


# ----------------------------------------------------------------------------------------------- components
def test_selector_order_fill_and_warning(data):
    lacking = data['Xtr'].drop(columns=['P3G1', 'P4G2'])
    sel = PathwayGeneSelector(data['pw']).fit(data['Xtr'])
    assert list(sel.get_feature_names_out()) == data['pw'].genes
    with pytest.warns(UserWarning, match=r'2 of 35 pathway genes are missing.*P3G1, P4G2'):
        out = sel.transform(lacking)
    assert list(out.columns) == data['pw'].genes
    assert (out[['P3G1', 'P4G2']] == 0).all().all()
    np.testing.assert_array_equal(out['P1G0'], lacking['P1G0'])
    with pytest.raises(ValueError, match=r"\['P3G1', 'P4G2'\]"):
        PathwayGeneSelector(data['pw'], fill_missing=False).fit(lacking)
    np.testing.assert_array_equal(sel.transform(data['Xtr'].to_numpy()), sel.transform(data['Xtr']))  # same width: fitted names
    with pytest.raises(ValueError, match='expecting 65 features'): sel.transform(data['Xtr'].to_numpy()[:, :3])
    bad = data['Xtr'].copy()
    bad.iloc[4, 0] = np.nan
    with pytest.raises(ValueError, match=r"'TR004' for gene\(s\) 'P1G0'"): sel.transform(bad)


def test_coxnet_survival_curve_is_scikit_survivals_breslow_estimate(data):
    "S(t | x) of CoxNet equals scikit-survival's own Breslow baseline at the chosen penalty; predict_proba is 1 - S(h)."
    from sksurv.linear_model import CoxnetSurvivalAnalysis
    est = _fit(METHODS['CoxNet'](data['pw'], quick=True), data)
    X_a = data['Xtr'][est.selector_.genes_].to_numpy()
    by_hand = CoxnetSurvivalAnalysis(l1_ratio=0.5, n_alphas=20, alpha_min_ratio=0.01, fit_baseline_model=True).fit(X_a, data['str'])
    times = [0.5, 1.0, 2.0, 3.0]
    curves = by_hand.predict_survival_function(data['Xex'][est.selector_.genes_].to_numpy(), alpha=est.alpha_)
    expected = np.array([[fn(t) for t in times] for fn in curves])
    np.testing.assert_allclose(est.predict_survival(data['Xex'], times).to_numpy(), expected, rtol=1e-4, atol=1e-6)
    est.set_params(horizon=2.0)
    np.testing.assert_allclose(est.predict_proba(data['Xex'])[:, 1], 1 - expected[:, 2], rtol=1e-4, atol=1e-6)


def test_label_and_survival_input_errors(data):
    with pytest.raises(TypeError, match='needs survival data'):
        METHODS['CoxNet'](data['pw'], quick=True).fit(data['Xtr'], data['ytr'])
    with pytest.raises(TypeError, match='structured'):
        METHODS['PathCNN'](data['pw'], quick=True).fit(data['Xtr'], data['str'])
    with pytest.raises(ValueError, match="Only binary classification"):
        _make('GeneExpImgTL', data['pw']).fit(data['Xtr'], data['ytr'].mask(data['ytr'].index.str.endswith('7'), 2))
    with pytest.raises(ValueError, match='no label for 1 sample'):
        METHODS['PathCNN'](data['pw'], quick=True).fit(data['Xtr'], data['ytr'].iloc[1:])
    assert is_survival_estimator(CoxElasticNetRisk(data['pw']))
    assert not is_survival_estimator(METHODS['PathCNN'](data['pw']))


def test_geneexpimgtl_warns_and_uses_all_genes_when_too_few(data):
    est = METHODS['GeneExpImgTL'](data['pw'], quick=True, epochs=1, n_genes=500, image_side=12)
    with pytest.warns(UserWarning, match='65 genes, fewer than n_genes=500'):
        est.fit(data['Xtr'], data['ytr'])
    assert len(est.selected_genes_) == 65 == len(est.layout_)


def test_geneexpimgtl_groups_and_images(data):
    hierarchy = {g: ('signal' if g.startswith(('P1', 'P2')) else 'rest') for g in data['Xtr'].columns}
    est = METHODS['GeneExpImgTL'](data['pw'], quick=True, epochs=1, n_genes=30, image_side=12, hierarchy=hierarchy,
                            area='mi').fit(data['Xtr'], data['ytr'])
    assert set(est.layout_.group) <= {'signal', 'rest'}
    areas = est.layout_.dx * est.layout_.dy
    mi = est.mi_[est.layout_.index]
    assert np.corrcoef(areas, mi)[0, 1] > 0.99          # areas proportional to MI (+1 % of the largest)
    images = est.transform_images(data['Xex'].iloc[:4])
    manual = data['Xex'].iloc[:4][list(est.layout_.index)].to_numpy() @ est.pixel_weights_.T
    np.testing.assert_allclose(images.reshape(4, -1), manual, rtol=1e-5)
    default = gene_groups_from_pathways(['P5G0', 'P6G1', 'BG01'], data['pw'])
    assert default.tolist() == ['P5', 'P6', 'other']   # first pathway wins for a shared gene
    with pytest.raises(ValueError, match="area must be"):
        METHODS['GeneExpImgTL'](data['pw'], quick=True, area='huge').fit(data['Xtr'], data['ytr'])


def test_pathcnn_pads_small_pathways_with_zeros(data):
    pw = PathwayCollection.from_dict({**data['pw'].to_dict(), 'tiny': ['BG00', 'BG01', 'BG02']})
    est = METHODS['PathCNN'](pw, quick=True, epochs=1)
    with pytest.warns(UserWarning, match=r'1 pathway\(s\) have fewer than 5.*tiny \(3\)'):
        est.fit(data['Xtr'], data['ytr'])
    assert est.padded_pathways_ == {'tiny': 3}
    image = est.transform_images(data['Xex'])
    assert image.shape == (120, 7, 5, 1)
    assert (image[:, 6, 3:, 0] == 0).all() and (image[:, 6, :3, 0] != 0).any()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from('ABCD'), st.floats(0.05, 5.0)), min_size=1, max_size=40),
       st.integers(3, 15))
def test_treemap_tiles_the_square(cells, side):
    genes = [f'g{i}' for i in range(len(cells))]
    groups, sizes = [c[0] for c in cells], np.array([c[1] for c in cells])
    layout = treemap_layout(genes, groups, sizes, side=side)
    assert sorted(layout.index) == sorted(genes)
    areas = (layout.dx * layout.dy)[genes].to_numpy()
    np.testing.assert_allclose(areas, sizes / sizes.sum() * side * side, rtol=1e-9)
    weights = treemap_pixel_weights(layout, side)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(weights.sum(axis=0), (layout.dx * layout.dy).to_numpy(), atol=1e-9)
    for _, cellset in layout.groupby('group'):  # a group's genes fill exactly its bounding rectangle
        box = ((cellset.x + cellset.dx).max() - cellset.x.min()) * ((cellset.y + cellset.dy).max() - cellset.y.min())
        assert box == pytest.approx((cellset.dx * cellset.dy).sum(), rel=1e-9)


# ----------------------------------------------------------------------------------------------- paper table & figures
def test_paper_auc_holds_the_quoted_numbers():
    assert list(PAPER_AUC.columns) == ['method', 'problem', 'validation', 'auc']
    assert len(PAPER_AUC) == 18
    look = PAPER_AUC.set_index(['method', 'problem', 'validation']).auc
    assert look[('SurvConvMixer', 'LUAD-short', 'IV')] == 0.6882
    assert look[('SurvConvMixerConv1D', 'LUAD-long', 'EV')] == 0.5224
    assert look[('PathCNN', 'SKCM-short', 'IV')] == 0.6430
    assert set(PAPER_AUC.validation) == {'IV', 'EV'}


def _folds():
    rng = np.random.default_rng(0)
    rows = [(p, m, r, f, rng.uniform(0.5, 0.8), rng.uniform(0.45, 0.75))
            for p in ['LUAD-short', 'LUAD-mid', 'SKCM-mid'] for m in ['SurvConvMixer', 'PathCNN', 'KNN']
            for r in range(2) for f in range(5)]
    return pd.DataFrame(rows, columns=['problem', 'method', 'repeat', 'fold', 'iv_auc', 'ev_auc'])


def test_table1_values():
    folds = _folds()
    table = fold_table(folds)
    assert list(table.index) == ['LUAD-short', 'LUAD-mid', 'SKCM-mid']
    sub = folds[(folds.method == 'KNN') & (folds.problem == 'LUAD-mid')]
    assert table.loc['LUAD-mid', ('KNN', 'EV', 'ours')] == f'{sub.ev_auc.mean():.3f} ± {sub.ev_auc.std():.3f}'
    assert table.loc['LUAD-short', ('SurvConvMixer', 'IV', 'paper')] == '0.6882'
    assert table.loc['LUAD-short', ('PathCNN', 'IV', 'paper')] == ''      # the paper quotes none there
    assert ('KNN', 'IV', 'paper') not in table.columns
    means = mean_auc_table(folds)
    assert len(means) == 9 and (means.n_fits == 10).all()
    with pytest.raises(ValueError, match='ev_auc'): mean_auc_table(folds.drop(columns='ev_auc'))


def test_figures():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    folds = _folds()
    fig = plot_radar(mean_auc_table(folds), 'iv_auc', 'IV')
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ['LUAD-short', 'LUAD-mid', 'SKCM-mid']
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['SurvConvMixer', 'PathCNN', 'KNN', 'chance (0.5)']
    line = ax.get_lines()[0].get_ydata()
    expected = folds[folds.method == 'SurvConvMixer'].groupby('problem', sort=False).iv_auc.mean().to_numpy()
    np.testing.assert_allclose(line[:-1], expected)
    assert line[-1] == line[0]  # the polygon is closed
    boxes = plot_auc_distributions(folds)
    assert len(boxes.axes) == 2 and boxes.axes[0].get_title().startswith('Internal')
    assert [t.get_text() for t in boxes.legends[0].get_texts()] == ['SurvConvMixer', 'PathCNN', 'KNN']
    plt.close('all')


# --------------------------------------------------------------- the forest's censored-time shortcut
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(12, 120), grid=st.sampled_from([0, 1, 2]),
       censoring=st.floats(0.1, 0.9))
def test_forest_on_event_times_is_the_same_forest(seed, n, grid, censoring):
    """RandomSurvivalForestRisk moves censored times down to the previous event time before growing the forest
    (censored_at_event_times); scikit-survival's forest on the original times gives the same risk scores and survival
    probabilities, bit for bit, with ties (times rounded to `grid` decimals) and early censoring included."""
    from sksurv.ensemble import RandomSurvivalForest
    from survconvmixer.baselines import censored_at_event_times
    from survconvmixer.checks import survival_array
    rng = np.random.default_rng(seed)
    pathways = PathwayCollection.from_dict({'P1': ['A', 'B', 'C'], 'P2': ['C', 'D']})
    X = pd.DataFrame(rng.random((n, 4)), columns=list('ABCD'))
    time = np.round(rng.exponential(np.exp(-2 * X.A.to_numpy())) + 0.01, grid)
    event = rng.random(n) > censoring
    if not event.any(): event[0] = True
    moved = censored_at_event_times(event, time)
    assert (moved <= time).all() and (moved[event] == time[event]).all()
    y = survival_array(event, time)
    ours = RandomSurvivalForestRisk(pathways, n_estimators=8, min_samples_leaf=3, random_state=seed).fit(X, y)
    direct = RandomSurvivalForest(n_estimators=8, min_samples_leaf=3, max_features='sqrt', n_jobs=1,
                                  random_state=seed).fit(np.asarray(ours.selector_.transform(X)), y)
    np.testing.assert_array_equal(ours.model_.unique_times_, np.unique(moved))     # grown on the moved times
    probe = X.iloc[: min(n, 30)]
    values = np.asarray(ours.selector_.transform(probe))
    np.testing.assert_array_equal(ours.predict(probe), direct.predict(values))
    times = np.quantile(time, [0.0, 0.3, 0.6, 1.0]).tolist() + [time.min() / 2, time.max() * 2]
    at = np.searchsorted(direct.unique_times_, times, side='right') - 1
    curves = direct.predict_survival_function(values, return_array=True)
    np.testing.assert_array_equal(ours.predict_survival(probe, times).to_numpy(),
                                  np.where(at >= 0, curves[:, np.maximum(at, 0)], 1.0))
