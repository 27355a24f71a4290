"""The evidence scripts behind the notebooks' defaults run (tiny sizes, fast methods: this checks that they work)."""
import importlib.util, os
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'scripts' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_learning_curve_writes_one_row_per_method_size_and_seed(tmp_path):
    out = tmp_path / 'lc.csv'
    args = ['--sizes', '120,160', '--seeds', '0', '--methods', 'LogisticRegression,KNN', '--n-jobs', '1', '--out', str(out)]
    assert load('learning_curve').main(args) == 0
    table = pd.read_csv(out)
    assert sorted(zip(table['size'], table.method)) == [(120, 'KNN'), (120, 'LogisticRegression'),
                                                         (160, 'KNN'), (160, 'LogisticRegression')]
    assert table.iv_auc.between(0, 1).all()
    assert load('learning_curve').main(args) == 0                # resumable: nothing redone, nothing duplicated
    assert len(pd.read_csv(out)) == 4


def test_recipe_scripts_name_valid_estimator_parameters():
    from survconvmixer.demo import synthetic_pathways
    from survconvmixer.model import SurvConvMixerClassifier
    pathways = synthetic_pathways(n_pathways=4, n_genes=30, longest=10, n_hub_genes=2)
    for script in ('recipe_small_cohort', 'recipe_threshold'):
        module = load(script)
        configs = getattr(module, 'CONFIGURATIONS', None) or module.CONFIGS
        for params in configs.values():
            SurvConvMixerClassifier(pathways, **params).get_params()            # unknown names raise here
            assert set(params) <= set(SurvConvMixerClassifier(pathways).get_params())


def test_real_cohorts_says_when_the_shared_data_is_absent(tmp_path, monkeypatch, capsys):
    module = load('real_cohorts')
    monkeypatch.setattr(module, 'SHARED', tmp_path / 'absent')
    assert module.main(['--out', str(tmp_path / 'x.csv')]) == 2
    assert 'needs the shared data folder' in capsys.readouterr().err


def test_hazard_comparison_writes_every_fold_of_every_method(tmp_path):
    out = tmp_path / 'hz.csv'
    args = ['--sizes', '150', '--seeds', '0', '--methods', 'LogisticRegression,CoxNet', '--n-jobs', '1', '--out', str(out)]
    assert load('hazard_comparison').main(args) == 0
    table = pd.read_csv(out)
    assert len(table) == 2 * 2 * 6                               # 2 methods x 2 horizons x 2 x 3 folds
    assert set(table.method) == {'LogisticRegression', 'CoxNet'} and table.iv_auc.between(0, 1).all()
    # the survival baseline trains on every patient of a fold, the classifier on the labelled ones only
    n = table.pivot_table(index=['problem', 'repeat', 'fold'], columns='method', values='n_train')
    assert (n.CoxNet >= n.LogisticRegression).all() and (n.CoxNet > n.LogisticRegression).any()


def test_recipe_ensemble_runs_the_three_configurations_on_the_same_folds(tmp_path):
    out = tmp_path / 'ens.csv'
    assert load('recipe_ensemble').main(['--n-train', '160', '--seeds', '0', '--repeats', '1', '--folds', '2',
                                         '--steps-scale', '0.01', '--n-jobs', '1', '--out', str(out)]) == 0
    table = pd.read_csv(out)
    assert set(table.method) == set(load('recipe_ensemble').CONFIGS) and len(table) == 3 * 2 * 2
    assert table.groupby('method').size().nunique() == 1 and table.iv_auc.between(0, 1).all()


def test_recipe_noise_runs_the_three_configurations_on_the_same_folds(tmp_path):
    out = tmp_path / 'noise.csv'
    module = load('recipe_noise')
    assert module.main(['--n-train', '160', '--seeds', '0', '--repeats', '1', '--folds', '2', '--steps-scale', '0.01',
                        '--noise', '0.05,0.15', '--n-jobs', '1', '--out', str(out)]) == 0
    table = pd.read_csv(out)
    assert set(table.method) == set(module.configs([0.05, 0.15])) and len(table) == 3 * 2 * 2
    assert table.groupby('method').size().nunique() == 1 and table.iv_auc.between(0, 1).all()
    noisy = module.noisy_classifier()
    assert noisy(None, 0.1).get_params()['input_noise'] == 0.1        # a scikit-learn parameter (clone keeps it)


def test_recipe_head_runs_the_three_heads_on_the_same_folds(tmp_path):
    out = tmp_path / 'head.csv'
    module = load('recipe_head')
    assert module.main(['--n-train', '160', '--seeds', '0', '--repeats', '1', '--folds', '2', '--steps-scale', '0.01',
                        '--n-jobs', '1', '--out', str(out)]) == 0
    table = pd.read_csv(out)
    assert set(table.method) == set(module.CONFIGS) and len(table) == 3 * 2 * 2
    assert table.groupby('method').size().nunique() == 1 and table.iv_auc.between(0, 1).all()


def test_recipe_head_runs_only_the_chosen_heads_and_names_wrong_arguments(tmp_path, capsys):
    out = tmp_path / 'two.csv'
    module = load('recipe_head')
    assert module.main(['--n-train', '160', '--seeds', '1', '--repeats', '1', '--folds', '2', '--steps-scale', '0.01',
                        '--n-jobs', '1', '--configs', 'flatten,average', '--out', str(out)]) == 0
    table = pd.read_csv(out)
    assert set(table.method) == {'single (recipe)', 'flattened head'} and (table.demo_seed == 1).all()
    for bad, says in ((['--configs', 'average,max'], "unknown pooling ['max']"), (['--seeds', '0,x'], 'whole numbers')):
        with pytest.raises(SystemExit) as exit_:
            module.main(bad + ['--out', str(tmp_path / 'never.csv')])
        assert exit_.value.code == 2 and says in capsys.readouterr().err
    assert not (tmp_path / 'never.csv').exists()


def test_slot_pooling_starts_as_the_papers_average():
    "The slot-weighted head, before training, predicts what the paper's pooled network predicts."
    import numpy as np
    from survconvmixer.demo import simulate_demo
    cls = load('recipe_head').head_classifier()
    demo = simulate_demo(n_train=60, n_external=20)
    X = demo.train.expression
    y = (demo.train.clinical.os_event.to_numpy() > 0).astype(int)
    pooled, slots = (cls(demo.pathways, pooling, random_state=3, steps=1) for pooling in ('average', 'slots'))
    for est in (pooled, slots): est.fit(X, y)
    paper, slot = pooled.model_, slots.model_
    # the slot weights as initialised; the trunk and the output layer copied from the paper's network
    slot.get_layer('pool').set_weights([(~slots.layout_.blank_slots) / slots.layout_.blank_slots.size])
    for layer in paper.layers:
        if layer.weights and layer.name != 'pool': slot.get_layer(layer.name).set_weights(layer.get_weights())
    images = pooled._inputs(X)
    np.testing.assert_allclose(slot.predict(images, verbose=0), paper.predict(images, verbose=0), atol=1e-5)


def test_recipe_head_maps_scores_every_design_for_both_heads(tmp_path):
    "One small seed: a row per head and map design, counts within their ranges, one held-out AUC per head."
    module = load('recipe_head_maps')
    out = tmp_path / 'maps.csv'
    assert module.main(['--seeds', '0', '--n-train', '200', '--out', str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 2 * len(module.DESIGNS)
    assert set(table['head']) == {'average', 'flatten'} and set(table.maps) == set(module.DESIGNS)
    assert table.recovered.between(0, 4).all() and table.false_positives.between(0, 36).all()
    assert table.groupby('head').held_out_auc.nunique().eq(1).all()


def test_real_cohorts_can_run_the_network_with_another_pooling():
    "`--pooling` swaps the registry's SurvConvMixer for the run: the factories the engine gets build that network."
    import pickle
    from survconvmixer import methods
    module = load('real_cohorts')
    saved = methods.METHODS['SurvConvMixer']
    try:
        module.use_pooling('flatten')
        factory = methods.method_factories(['SurvConvMixer'], None)['SurvConvMixer']
        assert pickle.loads(pickle.dumps(factory))(random_state=0).pooling == 'flatten'   # as the workers get it
    finally:
        methods.METHODS['SurvConvMixer'] = saved
    assert methods.method_factories(['SurvConvMixer'], None)['SurvConvMixer']().pooling == 'auto'   # the registry's own again


def test_learning_curve_can_measure_the_papers_pooling(tmp_path, capsys):
    "`--pooling` gives both networks that pooling (as the workers get them), and needs its own --out."
    import pickle
    import pytest
    from survconvmixer import methods
    module = load('learning_curve')
    saved = {name: methods.METHODS[name] for name in module.NETWORKS}
    try:
        module.use_pooling('average')
        for name, factory in methods.method_factories(list(module.NETWORKS), None).items():
            model = pickle.loads(pickle.dumps(factory))(random_state=0)
            assert model.pooling == 'average' and model.conv1d == (name == 'SurvConvMixerConv1D')
    finally:
        methods.METHODS.update(saved)
    assert {f().pooling for f in methods.method_factories(list(module.NETWORKS), None).values()} == {'auto'}
    page_curve = module.ROOT / 'nbs' / 'evidence' / 'learning_curve.csv'
    for out in ([], ['--out', str(page_curve)], ['--out', os.path.relpath(page_curve)],   # every spelling of the
                ['--out', str(page_curve.parent / '..' / 'evidence' / page_curve.name)]):  # page's curve
        with pytest.raises(SystemExit) as stop:
            module.main(['--pooling', 'average', *out])                            # would overwrite the page's curve
        assert stop.value.code == 2 and 'give it its own --out' in capsys.readouterr().err
    assert {m.pooling for m in (f() for f in methods.method_factories(list(module.NETWORKS), None).values())} == {'auto'}


def test_real_cohorts_keeps_a_partial_run_off_the_methods_pages_table(tmp_path, monkeypatch, capsys):
    "--pooling / --models / --cohorts without their own --out would overwrite real_cohorts.csv: refused at once."
    import pytest
    from survconvmixer.model import POOLINGS
    module = load('real_cohorts')
    table = module.ROOT / 'nbs' / 'evidence' / 'real_cohorts.csv'
    for extra in (['--pooling', 'flatten'], ['--models', 'SurvConvMixer'], ['--cohorts', 'LUAD-necroptosis'],
                  ['--pooling', 'flatten', '--out', os.path.relpath(table)],         # the same table, spelt relative
                  ['--pooling', 'flatten', '--out', str(table.parent / '..' / 'evidence' / table.name)]):
        with pytest.raises(SystemExit) as stop:
            module.main(extra)
        assert stop.value.code == 2 and 'give it its own --out' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        module.main(['--pooling', 'flat', '--out', str(tmp_path / 'x.csv')])      # a typo fails before any data is read
    assert 'invalid choice' in capsys.readouterr().err
    monkeypatch.setattr(module, 'SHARED', tmp_path / 'absent')                     # stop right after the arguments
    for pooling in ('auto', *POOLINGS):                                            # every pooling the model takes
        assert module.main(['--pooling', pooling, '--out', str(tmp_path / 'x.csv')]) == 2


def test_explain_heads_scores_the_top_of_each_patients_map_and_names_wrong_seeds(tmp_path, capsys):
    "`score_maps`: the share of patients topped by a planted pathway and the planted pathways' ranks in the mean map."
    module = load('explain_heads')
    maps = pd.DataFrame({'A': [5.0, 3.0, 1.0], 'B': [1.0, 2.0, 0.0], 'C': [0.0, 1.0, 3.0]}, index=['p1', 'p2', 'p3'])
    got = module.score_maps(maps, {'B', 'C'})
    # tops: A, A, C; each map over its max: A (1, 1, 1/3), B (0.2, 2/3, 0), C (0, 1/3, 1): mean order A, C, B
    assert got == {'top_is_planted': round(1 / 3, 3), 'most_common_top': 'A', 'most_common_share': round(2 / 3, 3),
                   'planted_ranks': '2 3', 'planted_in_top4': 1}     # 'top4': the top as many as are planted
    assert module.score_maps(maps, {'A'})['planted_ranks'] == '1'
    with pytest.raises(SystemExit) as exit_:
        module.main(['--seeds', '0,x', '--out', str(tmp_path / 'never.csv')])
    assert exit_.value.code == 2 and 'whole numbers' in capsys.readouterr().err
    assert not (tmp_path / 'never.csv').exists()


def test_recipe_scripts_keep_the_papers_pooling_their_tables_were_measured_with():
    "The recipe tables predate pooling='auto' as the default: a rerun must build the same (average-pooled) network."
    from survconvmixer.demo import synthetic_pathways
    pathways = synthetic_pathways()
    assert {m().pooling for m in load('recipe_monitor').methods(pathways).values()} == {'average'}
    assert load('recipe_ensemble').factory(pathways, 1, None)().pooling == 'average'
    assert load('recipe_ensemble').factory(pathways, 1, 700)().get_params()['steps'] == 700
    assert all(m.pooling == 'average' for _, m in load('recipe_ensemble').factory(pathways, 3, None)().estimators)
    assert load('recipe_noise').noisy_classifier()(pathways).pooling == 'average'
