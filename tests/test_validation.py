"""The validation engine: serial vs joblib vs Dask equality, resume after interruption, no external leakage."""
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from survconvmixer.demo import simulate_demo
from survconvmixer.model import SurvConvMixerClassifier
from survconvmixer.validation import make_problems, run_validation, fold_tasks, FOLD_COLUMNS, ValidationRun


@pytest.fixture(scope='module')
def demo():
    return simulate_demo(n_train=400, n_external=100, n_background_genes=10, seed=3)


@pytest.fixture(scope='module')
def problems(demo):
    return make_problems(demo.train, demo.external, {'mid': 3.0}, prefix='demo')


def _logreg_factory(genes):
    def factory(random_state=0):
        return make_pipeline(make_column_transformer(('passthrough', genes)), LogisticRegression(C=0.5, max_iter=500))
    return factory


def _methods(demo):
    return {'LogReg': _logreg_factory(demo.pathways.genes),
            'SurvConvMixer': lambda random_state=0: SurvConvMixerClassifier(
                demo.pathways, width=8, epochs=2, early_stopping=False, random_state=random_state)}


def _metrics(folds):
    return folds.drop(columns='seconds').sort_values(['problem', 'method', 'repeat', 'fold']).reset_index(drop=True)


def test_parallel_and_dask_equal_serial(demo, problems):
    distributed = pytest.importorskip('dask.distributed')
    methods = _methods(demo)
    serial = run_validation(problems, methods, n_repeats=1, n_splits=2, progress=False).folds
    assert len(serial) == 4 and list(serial.columns) == FOLD_COLUMNS
    joblib2 = run_validation(problems, methods, n_repeats=1, n_splits=2, n_jobs=2, progress=False).folds
    pd.testing.assert_frame_equal(_metrics(serial), _metrics(joblib2))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = run_validation(problems, methods, n_repeats=1, n_splits=2, scheduler=client, progress=False).folds
    pd.testing.assert_frame_equal(_metrics(serial), _metrics(on_dask))


def test_interrupted_run_resumes(tmp_path, demo, problems, monkeypatch):
    methods = {'LogReg': _logreg_factory(demo.pathways.genes)}
    full = run_validation(problems, methods, n_repeats=2, n_splits=3, progress=False).folds
    # interrupt after 2 folds: the factory raises on the 3rd fit (its first call makes the estimator that
    # run_validation inspects for its kind, classifier or survival model, without fitting it)
    calls = {'n': 0}
    def flaky(random_state=0):
        calls['n'] += 1
        if calls['n'] > 3: raise KeyboardInterrupt
        return methods['LogReg'](random_state)
    with pytest.raises(KeyboardInterrupt):
        run_validation(problems, {'LogReg': flaky}, n_repeats=2, n_splits=3, out_dir=tmp_path, progress=False)
    saved = ValidationRun.open(tmp_path).folds
    assert len(saved) == 2                              # finished folds are on disk at once
    calls['n'] = -100                                   # no more interruptions
    resumed = run_validation(problems, {'LogReg': flaky}, n_repeats=2, n_splits=3, out_dir=tmp_path, progress=False).folds
    assert calls['n'] == -100 + 1 + 4                   # only the 4 missing folds were fitted
    pd.testing.assert_frame_equal(_metrics(resumed), _metrics(full), check_dtype=False)


def test_external_labels_cannot_change_fits(demo, problems):
    """Shuffling the external labels changes EV metrics but not IV metrics: nothing external reaches `fit`."""
    methods = {'LogReg': _logreg_factory(demo.pathways.genes)}
    base = run_validation(problems, methods, n_repeats=1, n_splits=3, progress=False).folds
    shuffled = [p for p in make_problems(demo.train, demo.external, {'mid': 3.0}, prefix='demo')]
    rng = np.random.default_rng(0)
    shuffled[0].y_external = pd.Series(rng.permutation(shuffled[0].y_external.to_numpy()),
                                       index=shuffled[0].y_external.index)
    other = run_validation(shuffled, methods, n_repeats=1, n_splits=3, progress=False).folds
    np.testing.assert_array_equal(base.iv_auc, other.iv_auc)
    assert not np.allclose(base.ev_auc, other.ev_auc)


def test_same_folds_for_every_method(problems):
    tasks = fold_tasks(problems, ['a', 'b'], n_repeats=2, n_splits=5, seed=7)
    a = [(t.train_index, t.seed) for t in tasks if t.method == 'a']
    b = [(t.train_index, t.seed) for t in tasks if t.method == 'b']
    assert a == b and len(a) == 10


def _grow_and_report(megabytes: int, allow: bool):
    "A task that keeps `megabytes` more memory alive in its worker (as TensorFlow does), then gives its pid."
    import os, time
    from survconvmixer.validation import allow_worker_memory_growth
    if allow: allow_worker_memory_growth()
    held = globals().setdefault('_held', [])
    held.append(np.ones(megabytes * 2**17))   # 8 bytes each
    time.sleep(1.2)                             # loky checks memory at most once a second
    return os.getpid()


@pytest.mark.parametrize('allow', [False, True])
def test_worker_memory_growth_does_not_restart_the_worker(allow):
    "loky restarts a worker that grew by 300 MB; allow_worker_memory_growth keeps it (and its compiled networks)."
    from joblib.externals.loky import get_reusable_executor
    executor = get_reusable_executor(max_workers=1, reuse=False)   # a new worker: its reference size is taken now
    pids = [executor.submit(_grow_and_report, mb, allow).result() for mb in (1, 400, 1, 1)]
    executor.shutdown(wait=True)
    assert (len(set(pids)) == 1) == allow, pids


def test_fold_scaling_matches_genes_by_name(demo):
    "`scaling='fold'`: an external cohort with its genes in another order (and one extra) gives the same metrics."
    from survconvmixer.methods import method_factories
    shuffled = demo.external.expression[list(reversed(demo.external.expression.columns))].assign(EXTRA_GENE=1.0)
    permuted_external = demo.external.with_expression(shuffled)
    methods = method_factories(['LogisticRegression', 'KNN'], demo.pathways)
    runs = [run_validation(make_problems(demo.train, ext, {'mid': 3.0}, scaling='fold', prefix='demo'), methods,
                           n_repeats=1, n_splits=3, scaling='fold', progress=False).folds
            for ext in (demo.external, permuted_external)]
    pd.testing.assert_frame_equal(_metrics(runs[0]), _metrics(runs[1]))
    assert runs[0].ev_auc.notna().all() and runs[0].ev_auc.mean() > 0.55


def test_integrated_brier_matches_scikit_survival_for_a_survival_model(demo):
    """The IBS of a fit (its horizons' Brier rows integrated) equals scikit-survival's `integrated_brier_score` of the
    same fold's survival probabilities at the horizons; a run whose horizons were split differently is refused."""
    from dataclasses import replace
    from sksurv.metrics import integrated_brier_score
    from survconvmixer.baselines import RandomSurvivalForestRisk
    from survconvmixer.checks import survival_from_frame
    from survconvmixer.results import fold_integrated_brier, integrated_brier
    problems = make_problems(demo.train, demo.external, {'short': 1.0, 'mid': 3.0, 'long': 5.0}, prefix='demo')
    make = lambda random_state=0: RandomSurvivalForestRisk(demo.pathways, n_estimators=30, min_samples_leaf=15,
                                                           random_state=random_state)
    run = run_validation(problems, {'RSF': make, 'LogReg': _logreg_factory(demo.pathways.genes)}, n_repeats=1,
                         n_splits=3, progress=False)
    ibs = fold_integrated_brier(run)
    assert ibs.iv_ibs.notna().all() and ibs.ev_ibs.notna().all() and len(ibs) == 6
    task = next(t for t in fold_tasks(problems, ['RSF'], 1, 3) if t.fold == 2)
    train, test = np.asarray(task.train_index), np.asarray(task.test_index)
    surv = survival_from_frame(problems[0].survival_train)
    X = problems[0].X_train
    forest = make(random_state=task.seed).fit(X.iloc[train], surv[train])
    s = forest.predict_survival(X.iloc[test], [1.0, 3.0, 5.0]).to_numpy()
    expected = integrated_brier_score(surv[train], surv[test], s, [1.0, 3.0, 5.0])
    assert ibs.query("method == 'RSF' and fold == 2").iv_ibs.item() == pytest.approx(expected, abs=1e-9)
    table = integrated_brier(run, reference='RSF')
    assert set(table.validation) == {'IV', 'EV'} and (table.low <= table.estimate).all()
    assert table[table.method == 'LogReg'].difference.notna().all()
    moved = dict(run.splits)
    key = next(k for k in moved if k[0] == 'demo-long')
    moved[key] = moved[key][1:]
    with pytest.raises(ValueError, match='split into different folds'):
        fold_integrated_brier(replace(run, splits=moved))


def test_saved_fold_models_are_the_explained_ones_only(tmp_path, demo, problems):
    "save_models keeps SurvConvMixer's fold models (interpretation's); CoxNet, which can save too, fits and is not saved."
    from survconvmixer.methods import method_factories
    methods = {'SurvConvMixer': _methods(demo)['SurvConvMixer'],
               'CoxNet': method_factories(['CoxNet'], demo.pathways, quick=True)['CoxNet']}
    run = run_validation(problems, methods, n_repeats=1, n_splits=2, out_dir=tmp_path, save_models=True, progress=False)
    assert (run.folds.error.fillna('') == '').all(), run.folds.error.tolist()
    assert run.folds.query("method == 'CoxNet'").iv_brier.notna().all()          # CoxNet now gives a probability
    saved = sorted(p.name for p in (tmp_path / 'models').iterdir())
    assert saved and all(n.startswith('demo-mid__SurvConvMixer__') for n in saved), saved
    assert len(run.model_paths('demo-mid')) == 2


def test_resume_checks_saved_models_of_the_methods_that_save_them_only(demo):
    "A method that can save (CoxNet, the Keras baselines) but whose folds are not saved is never 'missing its model'."
    from survconvmixer.methods import method_factories
    from survconvmixer.validation import fold_model_methods
    names = ['SurvConvMixer', 'SurvConvMixerConv1D', 'CoxNet', 'GeneExpImgTL', 'PathCNN', 'LogisticRegression']
    assert fold_model_methods(method_factories(names, demo.pathways)) == ['SurvConvMixer', 'SurvConvMixerConv1D']
