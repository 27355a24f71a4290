"""The censoring-aware SurvConvMixerHazard and the survival baselines in the engine (issue 17)."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.base import clone

from survconvmixer.baselines import RandomSurvivalForestRisk
from survconvmixer.checks import survival_array
from survconvmixer.data import minmax_scale_genes
from survconvmixer.demo import simulate_demo
from survconvmixer.hazard import (SurvConvMixerHazard, hazard_targets, interval_breaks, logistic_hazard_loss,
                                  survival_from_hazards)
from survconvmixer.methods import method_factories
from survconvmixer.validation import make_problems, run_validation

FAST = dict(steps=40, width=16, batch_size=32)          # a real network, trained briefly: the tests check plumbing


def test_loss_on_a_hand_computed_case():
    "One patient dead in interval 2 of 3, one censored past the midpoint of interval 3; hazards 0.1, 0.2, 0.3."
    breaks = np.array([1.0, 2.0, 3.0])
    y = hazard_targets([1.5, 2.8], [1, 0], breaks)
    h = np.array([[0.1, 0.2, 0.3]] * 2, dtype='float32')
    loss = np.asarray(logistic_hazard_loss(y, h))
    dead = -(np.log(0.9) + np.log(0.2))
    censored = -(np.log(0.9) + np.log(0.8) + np.log(0.7))
    np.testing.assert_allclose(loss, [dead, censored], rtol=1e-5)
    early = hazard_targets([2.2], [0], breaks)         # censored before the midpoint: not at risk in interval 3
    np.testing.assert_allclose(np.asarray(logistic_hazard_loss(early, h[:1])), [-(np.log(0.9) + np.log(0.8))], rtol=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 8), st.booleans()), min_size=1, max_size=20),
       st.sampled_from([0.25, 0.5, 1.0]))
def test_targets_are_a_prefix_at_risk_and_at_most_one_death(patients, step):
    breaks = interval_breaks([1, 3, 5], step)
    time, event = map(np.array, zip(*patients))
    y = hazard_targets(time, event, breaks)
    J = len(breaks)
    at_risk, died = y[:, :J], y[:, J:]
    assert (died <= at_risk).all() and (died.sum(1) <= 1).all()
    assert (np.diff(at_risk, axis=1) <= 0).all()       # at risk from the first interval on, then never again
    np.testing.assert_array_equal(died.sum(1) == 1, event & (time <= breaks[-1]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=10, max_size=10), st.lists(st.floats(0, 5), min_size=1, max_size=12))
def test_survival_is_non_increasing_and_exact_at_the_breaks(hazards, times):
    breaks = interval_breaks([1, 3, 5], 0.5)
    h = np.array([hazards])
    times = np.sort(np.array(times))
    s = survival_from_hazards(h, breaks, times)[0]
    assert (np.diff(s) <= 1e-12).all() and ((s >= 0) & (s <= 1)).all()
    np.testing.assert_allclose(survival_from_hazards(h, breaks, breaks)[0], np.cumprod(1 - np.clip(h[0], 0, 1 - 1e-12)),
                               rtol=1e-9, atol=1e-12)


@pytest.fixture(scope='module')
def demo():
    return simulate_demo(n_train=240, n_external=60, n_background_genes=20, seed=3)


@pytest.fixture(scope='module')
def fitted(demo):
    X = minmax_scale_genes(demo.train.expression)
    y = survival_array(demo.train.os_event.astype(bool), demo.train.os_years())
    return SurvConvMixerHazard(demo.pathways, **FAST).fit(X, y), X, y


def test_one_fit_answers_every_horizon(fitted):
    model, X, _ = fitted
    s = model.predict_survival(X, [1, 3, 5]).to_numpy()
    assert (np.diff(s, axis=1) <= 1e-12).all()
    for i, h in enumerate((1, 3, 5)):
        model.set_params(horizon=h)
        np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 - s[:, i], rtol=1e-6)
    model.set_params(horizon=3.0)
    with pytest.raises(ValueError, match='last interval end'):
        model.predict_survival(X, [6])


def test_trains_on_censored_patients_too(fitted):
    "Every patient is in the fit: the training curve counts all of them (no Algorithm 1 labels)."
    model, X, y = fitted
    assert model.training_.n_fit + model.training_.n_validation == len(X)
    assert (~y['event']).sum() > 0


def test_save_load_and_clone(fitted, tmp_path):
    model, X, _ = fitted
    loaded = SurvConvMixerHazard.load(model.save(tmp_path / 'hz.keras'))
    np.testing.assert_allclose(loaded.predict_hazards(X), model.predict_hazards(X), rtol=1e-6)
    without = lambda params: {k: v for k, v in params.items() if k != 'pathways'}     # pathways are deep-copied
    assert without(clone(model).get_params()) == without(model.get_params())
    assert not hasattr(clone(model), 'class_weight')


def test_plain_labels_are_refused(demo):
    X = minmax_scale_genes(demo.train.expression)
    with pytest.raises(TypeError, match='needs survival data'):
        SurvConvMixerHazard(demo.pathways, **FAST).fit(X, np.zeros(len(X)))


def test_engine_fits_survival_methods_on_every_patient_at_the_problem_horizon(demo):
    problems = make_problems(demo.train, demo.external, {'mid': 3.0, 'long': 5.0}, prefix='demo')
    factories = method_factories(['SurvConvMixerHazard', 'RandomSurvivalForest', 'LogisticRegression'], demo.pathways)
    factories['SurvConvMixerHazard'] = lambda random_state=0: SurvConvMixerHazard(demo.pathways, random_state=random_state, **FAST)
    run = run_validation(problems, factories, n_repeats=1, n_splits=2, progress=False)
    folds = run.folds.set_index(['problem', 'method', 'fold'])
    assert (run.folds.error.fillna('') == '').all()
    for p in problems:
        for fold in (0, 1):
            all_rows = folds.loc[(p.name, 'RandomSurvivalForest', fold), 'n_train']
            assert all_rows == folds.loc[(p.name, 'SurvConvMixerHazard', fold), 'n_train']
            assert all_rows > folds.loc[(p.name, 'LogisticRegression', fold), 'n_train']   # labelled only
    assert run.folds.iv_brier.notna().all()
    ext = {h: run.external_predictions(f'demo-{h}', 'RandomSurvivalForest').probability.to_numpy() for h in ('mid', 'long')}
    assert (ext['long'] >= ext['mid'] - 1e-12).all() and not np.allclose(ext['long'], ext['mid'])


def test_random_survival_forest_curves(demo):
    X = minmax_scale_genes(demo.train.expression)
    y = survival_array(demo.train.os_event.astype(bool), demo.train.os_years())
    rsf = RandomSurvivalForestRisk(demo.pathways, n_estimators=20, horizon=3).fit(X, y)
    s = rsf.predict_survival(X, [0, 1, 3, 5]).to_numpy()
    assert (s[:, 0] == 1).all() and (np.diff(s, axis=1) <= 0).all()
    np.testing.assert_allclose(rsf.predict_proba(X)[:, 1], 1 - s[:, 2])
    assert rsf.score(X, y) > 0.6


def test_survival_method_is_fitted_once_per_fold_for_every_horizon(demo):
    fits = []

    class Counted(RandomSurvivalForestRisk):
        def fit(self, X, y):
            fits.append(len(X))
            return super().fit(X, y)

    problems = make_problems(demo.train, demo.external, {'short': 1.0, 'mid': 3.0, 'long': 5.0}, prefix='demo')
    run = run_validation(problems, {'RSF': lambda random_state=0: Counted(demo.pathways, n_estimators=10,
                                                                          random_state=random_state)},
                         n_repeats=1, n_splits=3, progress=False)
    assert len(fits) == 3 and len(run.folds) == 9      # 3 folds x 3 horizons from 3 fits
    assert sorted(fits) == sorted(run.folds[run.folds.problem == 'demo-mid'].n_train.tolist())


def test_reproduce_interprets_the_hazard_model_and_integrates_the_brier_score(tmp_path, monkeypatch):
    """`reproduce` with `interpret_method='SurvConvMixerHazard'`: the key-pathway steps run on the hazard model's
    fold models (Grad-CAM of the log cumulative hazard at each problem's horizon), and with two horizons the run
    writes the integrated Brier score of both methods."""
    import contextlib, io, warnings
    from dataclasses import replace
    from survconvmixer.methods import METHODS
    from survconvmixer.pipeline import RunConfig, reproduce
    monkeypatch.setitem(METHODS, 'SurvConvMixerHazard', replace(METHODS['SurvConvMixerHazard'], quick=FAST))
    cfg = RunConfig(models=['SurvConvMixerHazard', 'LogisticRegression'], horizons={'mid': 3.0, 'long': 5.0},
                    n_repeats=1, n_splits=2, n_train=300, n_external=100, interpret_method='SurvConvMixerHazard')
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter('ignore')
        result = reproduce(cfg, tmp_path, progress=False)
    key = pd.read_csv(tmp_path / 'key_pathways.csv')
    assert set(key.problem) == {'demo-mid', 'demo-long'} and key.p.notna().all()
    assert len(list((tmp_path / 'models').glob('*SurvConvMixerHazard*.keras'))) == 4
    ibs = pd.read_csv(tmp_path / 'integrated_brier.csv')
    assert set(ibs.method) == {'SurvConvMixerHazard', 'LogisticRegression'} and ibs.estimate.between(0, 1).all()
    page = (tmp_path / 'report.html').read_text()
    assert 'interpretation: Grad-CAM of the SurvConvMixerHazard fold models' in page and 'Integrated Brier score' in page
    assert result.interpretation is not None
