"""`train` -> `predict`: the model folder, the scaling policies and the command line (issue 15, items 3-4)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survconvmixer.cli import main
from survconvmixer.deploy import (MIN_COHORT, load_model, predict, read_expression, train_model, write_demo_files)
from survconvmixer.demo import simulate_demo

FAST = dict(steps=40, width=16, batch_size=32)          # a real network, trained briefly: the tests check plumbing


@pytest.fixture(scope='module')
def demo():
    return simulate_demo(n_train=240, n_external=60, n_background_genes=20, seed=3)


@pytest.fixture(scope='module')
def trained(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp('model') / 'model'
    model = train_model(demo.train, demo.pathways, {'mid': 3.0, 'long': 5.0}, out, params=FAST, cut_folds=2,
                        progress=False)
    return model, out


def test_folder_holds_what_load_needs(trained):
    model, out = trained
    names = sorted(p.name for p in out.iterdir())
    assert names == ['long.json', 'long.keras', 'manifest.json', 'mid.json', 'mid.keras', 'model.json']
    meta = json.loads((out / 'model.json').read_text())
    assert meta['genes'] == model.genes and len(meta['minima']) == len(meta['maxima']) == len(model.genes)
    assert set(json.loads((out / 'manifest.json').read_text())['files']) == {'long.json', 'long.keras', 'mid.json', 'mid.keras', 'model.json'}
    assert not list(out.parent.glob('.model.partial-*'))


def test_loaded_model_predicts_what_the_trained_one_does(trained, demo):
    model, out = trained
    loaded = load_model(out)
    new = demo.external.expression
    direct = model.estimators['long'].predict_proba(model.scaler().transform(new[model.genes]))[:, 1]
    np.testing.assert_allclose(predict(loaded, new).table.p_long.to_numpy(), direct, rtol=1e-5)
    assert loaded.cuts == model.cuts


def test_reference_scaling_does_not_depend_on_the_batch(trained, demo):
    model, _ = trained
    new = demo.external.expression
    batch = predict(model, new).table
    for i in (0, 17, len(new) - 1):
        alone = predict(model, new.iloc[[i]]).table
        np.testing.assert_allclose(alone[['p_mid', 'p_long']].to_numpy(), batch.iloc[[i]][['p_mid', 'p_long']].to_numpy(),
                                   rtol=1e-5, atol=1e-7)
        assert (alone.risk_mid.iloc[0], alone.risk_long.iloc[0]) == (batch.risk_mid.iloc[i], batch.risk_long.iloc[i])


def test_cohort_scaling_needs_a_cohort(trained, demo):
    model, _ = trained
    with pytest.raises(ValueError, match=f'needs at least {MIN_COHORT}; there are 3: use --scaling reference'):
        predict(model, demo.external.expression.iloc[:3], scaling='cohort')
    scaled = predict(model, demo.external.expression, scaling='cohort')
    assert scaled.clipped_share is None and scaled.table.shape == (len(demo.external), 4)


def test_genes_are_matched_by_name_and_missing_ones_said(trained, demo):
    model, _ = trained
    new = demo.external.expression
    shuffled = new[new.columns[::-1]]
    pd.testing.assert_frame_equal(predict(model, shuffled).table, predict(model, new).table)
    with pytest.warns(UserWarning, match=r"3 of \d+ of the model's genes are missing"):
        predict(model, new.drop(columns=model.genes[:3]))


def test_outside_the_training_range_is_clipped_and_said(trained, demo):
    model, _ = trained
    shifted = demo.train.expression.iloc[:30] + 100.0
    with pytest.warns(UserWarning, match='outside the training cohort'):
        p = predict(model, shifted)
    assert p.clipped_share > 0.9


@pytest.mark.parametrize('damage', ['truncate', 'swap', 'delete'])
def test_changed_model_file_is_refused(trained, tmp_path, damage):
    _, out = trained
    copy = tmp_path / 'copy'
    copy.mkdir()
    for f in out.iterdir(): (copy / f.name).write_bytes(f.read_bytes())
    target = copy / 'mid.keras'
    if damage == 'truncate': target.write_bytes(target.read_bytes()[:500])
    elif damage == 'swap': target.write_bytes((copy / 'long.keras').read_bytes())
    else: target.unlink()
    with pytest.raises((ValueError, FileNotFoundError), match='mid.keras'):
        load_model(copy)


def test_interrupted_train_leaves_no_folder(demo, tmp_path):
    out = tmp_path / 'model'
    with pytest.raises(ValueError, match='too few in one class'):       # the second horizon fails
        train_model(demo.train, demo.pathways, {'mid': 3.0, 'late': 40.0}, out, params=FAST, cut_folds=2, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_read_expression_orients_by_the_model_genes(tmp_path):
    t = pd.DataFrame(np.arange(6.0).reshape(2, 3), index=['p1', 'p2'], columns=['TP53', 'EGFR', 'KRAS'])
    t.to_csv(tmp_path / 'a.csv')
    t.T.to_csv(tmp_path / 'b.tsv.gz', sep='\t')
    for name in ('a.csv', 'b.tsv.gz'):
        pd.testing.assert_frame_equal(read_expression(tmp_path / name, ['TP53', 'KRAS']), t, check_names=False)


def test_command_line_round_trip(tmp_path, capsys):
    files = write_demo_files(tmp_path / 'files', n_train=200, n_external=40, seed=1)
    model_dir, pred_dir = tmp_path / 'model', tmp_path / 'pred'
    train = ['train', '--expression', str(files['train_expression']), '--clinical', str(files['train_clinical']),
             '--time-unit', 'days', '--pathways', str(files['pathways']), '--horizons', '3', '--cut-folds', '2',
             '--out', str(model_dir), '--quiet']
    from survconvmixer import deploy
    original = deploy.train_model
    deploy.train_model = lambda *a, **k: original(*a, **{**k, 'params': FAST})    # brief training: plumbing only
    try: assert main(train) == 0
    finally: deploy.train_model = original
    out = capsys.readouterr().out
    assert 'cross_fitted_auc' in out and f'model written to {model_dir}' in out
    assert main(['predict', '--model', str(model_dir), '--expression', str(files['external_expression']),
                 '--out', str(pred_dir), '--scaling', 'cohort', '--quiet']) == 0
    table = pd.read_csv(pred_dir / 'predictions.csv', index_col='sample_id')
    assert list(table.columns) == ['p_mid', 'risk_mid'] and len(table) == 40
    expected = predict(load_model(model_dir), read_expression(files['external_expression'], load_model(model_dir).genes),
                       scaling='cohort').table
    np.testing.assert_allclose(table.p_mid.to_numpy(), expected.p_mid.to_numpy(), rtol=1e-5)
    capsys.readouterr()
    # three patients with --scaling cohort: one line, exit 2
    few = tmp_path / 'few.csv'
    pd.read_csv(files['external_expression'], index_col=0).iloc[:3].to_csv(few)
    assert main(['predict', '--model', str(model_dir), '--expression', str(few), '--out', str(tmp_path / 'p3'),
                 '--scaling', 'cohort']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: ') and '--scaling reference' in err[0]
    # a damaged model file: one line, exit 2, the file named
    keras_file = model_dir / 'mid.keras'
    keras_file.write_bytes(keras_file.read_bytes()[:100])
    assert main(['predict', '--model', str(model_dir), '--expression', str(few), '--out', str(tmp_path / 'p4')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'mid.keras does not match the checksum' in err[0]


def test_train_refuses_what_it_cannot_save_and_a_used_folder(demo, tmp_path, capsys):
    (tmp_path / 'used').mkdir(); (tmp_path / 'used' / 'x').write_text('x')
    assert main(['train', '--out', str(tmp_path / 'used'), '--horizons', '3', '--n-train', '100']) == 2
    assert 'exists and is not empty' in capsys.readouterr().err
    assert main(['train', '--out', str(tmp_path / 'm'), '--method', 'Cox']) == 2
    assert "invalid choice: 'Cox'" in capsys.readouterr().err
    assert main(['train', '--out', str(tmp_path / 'm'), '--cut-folds', '1']) == 2
    assert '--cut-folds must be at least 2' in capsys.readouterr().err


def test_predict_with_clinical_writes_the_metrics(trained, demo, tmp_path, capsys):
    from survconvmixer.deploy import evaluate_predictions
    _, model_dir = trained
    ext = demo.external
    ext.expression.to_csv(tmp_path / 'expr.csv')
    pd.DataFrame({'os_time': ext.os_years() * 12, 'os_event': ext.os_event}).to_csv(tmp_path / 'clin.csv')
    args = ['predict', '--model', str(model_dir), '--expression', str(tmp_path / 'expr.csv'), '--scaling', 'cohort',
            '--out', str(tmp_path / 'out')]
    assert main(args + ['--clinical', str(tmp_path / 'clin.csv')]) == 2           # no --time-unit: refused
    assert '--clinical needs --time-unit' in capsys.readouterr().err
    assert main(args + ['--clinical', str(tmp_path / 'clin.csv'), '--time-unit', 'months']) == 0
    metrics = pd.read_csv(tmp_path / 'out' / 'metrics.csv', index_col='horizon')
    assert list(metrics.index) == ['mid', 'long'] and (metrics.n == len(ext)).all()
    expected = evaluate_predictions(predict(load_model(model_dir), ext.expression, 'cohort'), ext, {'mid': 3.0, 'long': 5.0})
    np.testing.assert_allclose(metrics[['auc', 'td_auc', 'c_uno']].to_numpy(), expected[['auc', 'td_auc', 'c_uno']].to_numpy(),
                               rtol=1e-6)
    assert (metrics.auc_low < metrics.auc).all() and (metrics.auc < metrics.auc_high).all()
    assert (metrics.n_labelled < metrics.n).all()                   # the IPCW metrics use every patient, AUC the labelled


def test_train_checks_its_folder_before_reading_any_data(tmp_path, monkeypatch, capsys):
    import survconvmixer.pipeline as pipeline
    def must_not_run(*a, **k): raise AssertionError('the data was read before the folder was checked')
    monkeypatch.setattr(pipeline, 'load_inputs', must_not_run)
    (tmp_path / 'used').mkdir(); (tmp_path / 'used' / 'x').write_text('x')
    assert main(['train', '--out', str(tmp_path / 'used'), '--horizons', '3']) == 2
    assert 'exists and is not empty' in capsys.readouterr().err


def test_hazard_model_is_one_network_for_every_horizon(demo, tmp_path):
    """The censoring-aware model: trained once on every patient (censored ones included), one file answers both
    horizons, the loaded folder predicts what the trained model does, and P(death by 3 y) <= P(death by 5 y)."""
    out = tmp_path / 'hazard'
    model = train_model(demo.train, demo.pathways, {'mid': 3.0, 'long': 5.0}, out, method='SurvConvMixerHazard',
                        params=FAST, cut_folds=2, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ['manifest.json', 'model.json', 'survival.json', 'survival.keras']
    assert model.estimators['mid'] is model.estimators['long']
    assert model.estimators['mid'].training_.n_fit + model.estimators['mid'].training_.n_validation == len(demo.train)
    assert set(model.estimators['mid'].breaks_) >= {3.0, 5.0}
    loaded = load_model(out)
    assert loaded.estimators['mid'] is loaded.estimators['long']          # the shared file is read once
    new = demo.external.expression
    table = predict(loaded, new).table
    surv = model.estimators['mid'].predict_survival(model.scaler().transform(new[model.genes]), [3.0, 5.0])
    np.testing.assert_allclose(table[['p_mid', 'p_long']].to_numpy(), 1 - surv.to_numpy(), rtol=1e-5, atol=1e-7)
    assert (table.p_mid <= table.p_long + 1e-7).all()
    assert loaded.cuts == model.cuts and model.cuts['mid'] < model.cuts['long']
    assert set(model.summary().columns) >= {'n_labelled', 'cross_fitted_auc', 'risk_cut'}


def test_predict_nan_policy_on_the_command_line(trained, demo, tmp_path, capsys):
    "A missing value in a model gene: refused by default in one line; `drop_samples` scores the others."
    _, model_dir = trained
    expr = demo.external.expression.copy()
    gene = load_model(model_dir).genes[0]
    expr.loc[expr.index[2], gene] = np.nan
    expr.to_csv(tmp_path / 'expr.csv')
    args = ['predict', '--model', str(model_dir), '--expression', str(tmp_path / 'expr.csv'), '--scaling', 'cohort']
    assert main(args + ['--out', str(tmp_path / 'a')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'missing value' in err[0] and '--nan-policy' in err[0]
    assert main(args + ['--out', str(tmp_path / 'b'), '--nan-policy', 'drop_samples', '--quiet']) == 0
    table = pd.read_csv(tmp_path / 'b' / 'predictions.csv', index_col='sample_id')
    assert len(table) == len(expr) - 1 and str(expr.index[2]) not in set(table.index.astype(str))


def test_interpret_command_writes_maps_key_pathways_and_figures(trained, demo, tmp_path, capsys):
    "`interpret` with a model folder: a map per patient and pathway per horizon, the key-pathway table with survival."
    _, model_dir = trained
    ext = demo.external
    ext.expression.to_csv(tmp_path / 'expr.csv')
    pd.DataFrame({'os_time': ext.os_years() * 12, 'os_event': ext.os_event}).to_csv(tmp_path / 'clin.csv')
    out = tmp_path / 'explained'
    assert main(['interpret', '--model', str(model_dir), '--expression', str(tmp_path / 'expr.csv'), '--scaling', 'cohort',
                 '--clinical', str(tmp_path / 'clin.csv'), '--time-unit', 'months', '--figures', '2', '--out', str(out),
                 '--quiet']) == 0
    assert f'{len(ext)} patients explained' in capsys.readouterr().out
    for horizon in ('mid', 'long'):
        maps = pd.read_csv(out / f'maps_{horizon}.csv', index_col='sample_id')
        assert maps.shape == (len(ext), len(demo.pathways)) and (maps.to_numpy() >= 0).all()
        assert (out / 'figures' / f'patient_{ext.samples[0]}_{horizon}.png').exists()
    key = pd.read_csv(out / 'key_pathways.csv')
    assert set(key.problem) == {'mid', 'long'} and len(key) == 2 * len(demo.pathways)
    assert any(p.name.startswith('mid_pvalue_grid') for p in (out / 'figures').iterdir())
    # without survival: maps only; --figures must not be negative
    assert main(['interpret', '--model', str(model_dir), '--expression', str(tmp_path / 'expr.csv'),
                 '--out', str(tmp_path / 'maps_only'), '--quiet']) == 0
    assert not (tmp_path / 'maps_only' / 'key_pathways.csv').exists()
    capsys.readouterr()
    assert main(['interpret', '--model', str(model_dir), '--expression', str(tmp_path / 'expr.csv'), '--figures', '-1',
                 '--out', str(tmp_path / 'x')]) == 2
    assert '--figures must be 0 or more' in capsys.readouterr().err


class Foreign:
    "A type no model folder of this package holds."
    def fit(self, X, y=None): return self
    def predict_proba(self, X): return np.zeros((len(X), 2))


def test_scikit_learn_baseline_trains_predicts_and_refuses_foreign_types(demo, tmp_path, capsys):
    """train --method LogisticRegression: a .skops file per horizon, loaded without pickle; its pipeline face; a file
    holding a foreign type is refused even with a matching checksum."""
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from survconvmixer.report import sha256
    files = write_demo_files(tmp_path / 'files', n_train=200, n_external=40, seed=2)
    model_dir = tmp_path / 'model'
    assert main(['train', '--expression', str(files['train_expression']), '--clinical', str(files['train_clinical']),
                 '--time-unit', 'days', '--pathways', str(files['pathways']), '--horizons', '3,5', '--method',
                 'LogisticRegression', '--cut-folds', '2', '--out', str(model_dir), '--quiet']) == 0
    assert sorted(p.name for p in model_dir.iterdir()) == ['long.skops', 'manifest.json', 'mid.skops', 'model.json']
    model = load_model(model_dir)
    assert type(model.estimators['mid']).__name__ == 'Pipeline'
    assert main(['predict', '--model', str(model_dir), '--expression', str(files['external_expression']),
                 '--out', str(tmp_path / 'pred'), '--quiet']) == 0
    table = pd.read_csv(tmp_path / 'pred' / 'predictions.csv', index_col='sample_id')
    expression = read_expression(files['external_expression'], model.genes)
    np.testing.assert_allclose(table.p_long.to_numpy(), model.pipeline('long').predict_proba(expression)[:, 1])
    assert (table.p_long.to_numpy() != table.p_mid.to_numpy()).any()
    capsys.readouterr()
    sio.dump(Pipeline([('model', Foreign())]), model_dir / 'mid.skops')
    manifest = json.loads((model_dir / 'manifest.json').read_text())
    manifest['files']['mid.skops'] = sha256(model_dir / 'mid.skops')
    (model_dir / 'manifest.json').write_text(json.dumps(manifest))
    assert main(['predict', '--model', str(model_dir), '--expression', str(files['external_expression']),
                 '--out', str(tmp_path / 'pred2')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'does not trust' in err[0] and 'Foreign' in err[0], err
    assert main(['interpret', '--model', str(tmp_path / 'model'), '--expression', str(files['external_expression']),
                 '--out', str(tmp_path / 'x')]) == 2


@pytest.mark.parametrize('method', ['LogisticRegression', 'KNN', 'SVM', 'RandomForest', 'MLP', 'RandomSurvivalForest'])
def test_every_scikit_learn_baseline_round_trips(demo, tmp_path, method):
    "Each baseline's folder loads through skops with the package's trusted types and predicts what was trained."
    params = {'RandomForest': {'n_estimators': 50}, 'RandomSurvivalForest': {'n_estimators': 20, 'min_samples_leaf': 20}}
    horizons = {'mid': 3.0, 'long': 5.0}
    model = train_model(demo.train, demo.pathways, horizons, tmp_path / 'm', method=method, cut_folds=2,
                        progress=False, params=params.get(method))
    loaded = load_model(tmp_path / 'm')
    expected = {'survival.skops'} if method == 'RandomSurvivalForest' else {'mid.skops', 'long.skops'}
    assert {p.name for p in (tmp_path / 'm').glob('*.skops')} == expected
    new, old = (predict(m, demo.external.expression, scaling='cohort').table for m in (loaded, model))
    for h in horizons: np.testing.assert_allclose(new[f'p_{h}'], old[f'p_{h}'])
    if method == 'RandomSurvivalForest': assert (new.p_mid <= new.p_long + 1e-12).all()   # one survival curve


def test_a_skops_file_naming_a_package_function_is_refused(demo, tmp_path):
    "Trust is by exact type name: a file that calls any function of the package (or of scikit-learn) is refused."
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer
    from survconvmixer.deploy import load_estimator
    from survconvmixer.validation import run_call
    path = tmp_path / 'mid.skops'
    sio.dump(Pipeline([('f', FunctionTransformer(run_call))]), path)
    with pytest.raises(ValueError, match=r"does not trust \('survconvmixer.validation.run_call'\)"):
        load_estimator(path, 'LogisticRegression')


def test_gene_a_training_cohort_lacked_is_zero_for_its_new_patients(demo, tmp_path):
    "A model of two cohorts, one without a pathway gene: reference scaling with that cohort's ranges gives the gene 0."
    a, b = demo.train.subset(demo.train.samples[:120]), demo.train.subset(demo.train.samples[120:])
    gene = demo.pathways.genes[0]
    b = b.with_expression(b.expression.drop(columns=gene)); b.name = 'B'; a.name = 'A'
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = train_model([a, b], demo.pathways, {'mid': 3.0}, tmp_path / 'm', method='LogisticRegression',
                            cut_folds=2, progress=False)
    loaded = load_model(tmp_path / 'm')
    new = demo.external.expression.copy()
    assert loaded.scaler(cohort='B').transform(new[loaded.genes])[gene].eq(0).all()
    assert not loaded.scaler(cohort='A').transform(new[loaded.genes])[gene].eq(0).all()


@pytest.mark.parametrize('method', ['GeneExpImgTL', 'PathCNN', 'CoxNet'])
def test_keras_baselines_and_coxnet_train_and_round_trip(demo, tmp_path, method):
    "Every registered method trains: the paper's Keras baselines (.keras + .json) and CoxNet (one plain-JSON file)."
    import warnings
    from survconvmixer.methods import METHODS
    from survconvmixer.training import KerasClassifier
    params = {'GeneExpImgTL': dict(n_genes=40, filters=4, dense_units=8, epochs=2, validation_fraction=0.0),
              'PathCNN': dict(epochs=2), 'CoxNet': dict(cv=2, n_alphas=10)}[method]
    horizons = {'mid': 3.0, 'long': 5.0}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')             # PathCNN: pathways with fewer genes than components
        model = train_model(demo.train, demo.pathways, horizons, tmp_path / 'm', method=method, cut_folds=2,
                            progress=False, params=params)
        loaded = load_model(tmp_path / 'm')
        new, old = (predict(m, demo.external.expression, scaling='cohort').table for m in (loaded, model))
    files = sorted(p.name for p in (tmp_path / 'm').iterdir())
    if method == 'CoxNet':
        assert files == ['manifest.json', 'model.json', 'survival.json']
        assert (new.p_mid <= new.p_long + 1e-12).all()                    # one survival curve for both horizons
    else:
        assert files == ['long.json', 'long.keras', 'manifest.json', 'mid.json', 'mid.keras', 'model.json']
        assert isinstance(loaded.estimators['mid'], KerasClassifier) and type(loaded.estimators['mid']) is type(model.estimators['mid'])
    for h in horizons: np.testing.assert_allclose(new[f'p_{h}'], old[f'p_{h}'], rtol=1e-5, atol=1e-7)
    assert model.summary().cross_fitted_auc.between(0, 1).all()


def test_a_damaged_coxnet_file_is_refused_clearly(demo, tmp_path):
    "A CoxNet JSON file that is not one (or lacks a key) gives a one-line error, not a traceback from inside."
    from survconvmixer.deploy import load_estimator
    bad = tmp_path / 'survival.json'
    for text in ('{"estimator": "CoxElasticNetRisk", "params": {}}', '[1, 2]', '{"estimator": "Other"}'):
        bad.write_text(text)
        with pytest.raises(ValueError, match='is not a readable CoxNet model file'):
            load_estimator(bad, 'CoxNet')


def test_a_model_file_of_an_unknown_method_is_refused_clearly(tmp_path):
    "load_estimator finds the class through the method registry: a method it lacks is one line naming the choices."
    from survconvmixer.deploy import load_estimator
    path = tmp_path / 'mid.keras'
    path.write_bytes(b'')
    with pytest.raises(ValueError, match=r"method 'Nope', which this version does not know \(it knows SurvConvMixer, "):
        load_estimator(path, 'Nope')
    with pytest.raises(ValueError, match=r"method 'Nope', which this version does not know"):
        load_estimator(tmp_path / 'mid.skops', 'Nope')                   # checked before any file is read
    with pytest.raises(ValueError, match=r"RandomForest models are not saved as .keras files; .* retrain"):
        load_estimator(path, 'RandomForest')                             # a folder edited by hand


def test_every_saving_method_declares_its_file_suffix():
    "Each registered estimator with its own `save` names the suffix it writes (save_estimator uses it) and has a `load`."
    from survconvmixer.methods import METHODS
    for name, method in METHODS.items():
        estimator = method(pathways=None)
        if hasattr(estimator, 'save'):
            assert estimator.model_suffix in ('.keras', '.json'), name
            assert hasattr(type(estimator), 'load'), name


def test_interpret_refuses_a_model_without_grad_cam(demo, tmp_path):
    "Grad-CAM maps are SurvConvMixer's: a CoxNet model is refused with the methods that have them."
    from survconvmixer.deploy import explain
    model = train_model(demo.train, demo.pathways, {'mid': 3.0}, tmp_path / 'm', method='CoxNet', cut_folds=2,
                        progress=False, params=dict(cv=2, n_alphas=10))
    with pytest.raises(ValueError, match='a CoxNet model has none .train one of SurvConvMixer, SurvConvMixerConv1D'):
        explain(model, demo.external.expression)


def test_a_damaged_network_description_is_refused_clearly(demo, tmp_path):
    "A .json beside a .keras that is damaged or lacks a key gives one line naming it; an unsavable parameter writes nothing."
    import warnings
    from survconvmixer.baselines import PathCNNClassifier
    from survconvmixer.labelling import label_cohort
    labels = label_cohort(demo.train, 3.0).labels
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        fitted = PathCNNClassifier(demo.pathways, epochs=1).fit(demo.train.expression.loc[labels.index], labels)
    path = fitted.save(tmp_path / 'p.keras')
    meta = json.loads(path.with_suffix('.json').read_text())
    for text in ('not json', json.dumps({k: v for k, v in meta.items() if k != 'pcas'}),
                 json.dumps({**meta, 'params': {**meta['params'], 'no_such_parameter': 1}})):
        path.with_suffix('.json').write_text(text)
        with pytest.raises(ValueError, match=r'p.json is not a readable PathCNN model description'):
            PathCNNClassifier.load(path)
    fitted.set_params(class_weight=np.float32(2.0))       # not JSON: refused before any file is written
    with pytest.raises(ValueError, match='cannot be saved as JSON'):
        fitted.save(tmp_path / 'q.keras')
    assert not (tmp_path / 'q.keras').exists()


def test_cut_folds_train_the_network_the_saved_model_has(demo, tmp_path, monkeypatch):
    "pooling='auto' decides by size: the cut folds (2/3 or 1/2 of the patients) must not get another head."
    from survconvmixer import model as M
    fitted = []
    fit = M.SurvConvMixerClassifier.fit
    def recording_fit(self, X, y):
        out = fit(self, X, y)
        fitted.append((len(X), self.pooling_))
        return out
    monkeypatch.setattr(M.SurvConvMixerClassifier, 'fit', recording_fit)
    monkeypatch.setattr(M, 'MIN_INNER_SPLIT', 20)          # ~200 labelled patients: an inner split of 30, folds' 15
    model = train_model(demo.train, demo.pathways, {'mid': 3.0}, tmp_path / 'm', params=dict(width=8, epochs=2),
                        cut_folds=2, progress=False)
    (n_all, saved), *folds = fitted
    assert saved == 'average' and M.SurvConvMixerClassifier(demo.pathways)._pooling(n_all // 2) == 'flatten'
    assert len(folds) == 2 and all(pooling == 'average' for _, pooling in folds), fitted
    assert model.estimators['mid'].pooling_ == 'average'
