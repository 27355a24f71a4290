"""The main job end to end with SurvConvMixer and interpretation on a small demo run (real training, real files)."""
import json

import pandas as pd
import pytest

from survconvmixer.cli import main
from survconvmixer.interpretation import INTERPRETATIONS, KEY_PATHWAY_COLUMNS

ARGS = ['reproduce', '--models', 'SurvConvMixer', '--horizons', '1,3', '--n-train', '700', '--n-external', '120',
        '--folds', '2', '--quiet']


def _args(out, n_jobs: int = 1) -> list[str]:
    return ARGS + ['--n-jobs', str(n_jobs), '--out', str(out)]


@pytest.fixture(scope='module')
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp('run')
    assert main(_args(out)) == 0
    return out


def test_key_pathways_file(run_dir):
    key = pd.read_csv(run_dir / 'key_pathways.csv')
    assert list(key.columns) == KEY_PATHWAY_COLUMNS + ['maps']
    assert set(key.maps) == set(INTERPRETATIONS)
    sizes = key.groupby(['problem', 'maps']).size()
    assert (sizes == 40).all(), sizes                        # every pathway tested once per problem and maps
    assert key.p.between(0, 1).all() and (key.p_bonferroni >= key.p).all()
    assert (key.significant == (key.p_bonferroni < 0.05)).all()
    assert key.loc[~key.significant, 'logrank_p'].isna().all()  # log-rank only for key pathways
    problems = pd.read_csv(run_dir / 'problems.csv').set_index('problem')
    km = key[key.significant & key.logrank_p.notna()]
    assert len(km) and (km.n_km == problems.loc[km.problem, 'n_train'].to_numpy()).all()   # every patient with OS
    assert (problems.n_train > problems.n_train_labelled).all()                            # the censored included
    assert (km.n_km_external == problems.loc[km.problem, 'n_external'].to_numpy()).all()
    assert km.logrank_p_external.between(0, 1).all()


def test_manifest_truth_names_match_key_pathways(run_dir):
    manifest = json.loads((run_dir / 'manifest.json').read_text())
    planted = manifest['demo_truth']['planted_pathways']
    key = pd.read_csv(run_dir / 'key_pathways.csv')
    assert planted and set(planted) <= set(key.pathway)
    recovery = pd.read_csv(run_dir / 'key_pathway_recovery.csv')
    assert set(recovery.maps) == set(INTERPRETATIONS)
    assert (recovery.n_planted == len(planted)).all()


def test_figures_and_report(run_dir):
    figures = {p.name for p in (run_dir / 'figures').iterdir()}
    for maps in INTERPRETATIONS:
        assert f'demo-mid_{maps}_pvalue_grid.png' in figures
    assert 'demo-mid_paper_class_cam.png' in figures
    report = (run_dir / 'report.html').read_text()
    assert 'Key pathways against the planted truth' in report
    for name in figures: assert name in report, name


def test_rerun_of_a_finished_run_is_complete(run_dir, capsys):
    before = pd.read_csv(run_dir / 'folds.csv')
    key = (run_dir / 'key_pathways.csv').stat().st_mtime_ns
    assert main(_args(run_dir)) == 0
    assert capsys.readouterr().out.strip() == f"run already complete: {run_dir / 'report.html'}"
    pd.testing.assert_frame_equal(before, pd.read_csv(run_dir / 'folds.csv'))     # nothing refitted
    assert (run_dir / 'key_pathways.csv').stat().st_mtime_ns == key                  # nor reinterpreted
    assert len(pd.read_csv(run_dir / 'key_pathways.csv')) == 2 * 2 * 40   # 2 problems x 2 kinds of maps


def test_missing_model_file_is_refitted(run_dir, tmp_path, capsys):
    import shutil
    copy = tmp_path / 'copy'
    shutil.copytree(run_dir, copy)
    gone = sorted((copy / 'models').glob('*.keras'))[0]
    gone.unlink()
    assert main(_args(copy)) == 0
    err = capsys.readouterr().err
    problem, method, rest = gone.stem.split('__')
    assert f"refitting 1 fold(s) whose saved model is missing: {problem}/{method} {rest.replace('_', ' ')}" in err, err
    assert gone.exists() and 'Traceback' not in err
    folds, before = pd.read_csv(copy / 'folds.csv'), pd.read_csv(run_dir / 'folds.csv')
    assert len(folds) == len(before)
    assert len(pd.read_csv(copy / 'key_pathways.csv')) == 2 * 2 * 40


@pytest.mark.parametrize('damage', ['truncated', 'foreign'])
def test_unreadable_model_file_is_named(run_dir, tmp_path, capsys, damage):
    import shutil
    copy = tmp_path / 'copy'
    shutil.copytree(run_dir, copy)
    model = sorted((copy / 'models').glob('*.keras'))[0]
    content = model.read_bytes()
    model.write_bytes(content[:len(content) // 2] if damage == 'truncated' else b'not a model' * 100)
    assert main(_args(copy)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'error: {model} is not a readable model file'), lines
    assert 'delete it and rerun the same command to refit its fold' in lines[0]


def test_interpretation_in_two_processes_equals_one(run_dir, tmp_path):
    "Problems are interpreted in parallel (`--n-jobs`): the same key pathways and figures as one process."
    import shutil
    copy = tmp_path / 'copy'
    shutil.copytree(run_dir, copy)
    (copy / 'key_pathways.csv').unlink()
    shutil.rmtree(copy / 'figures')
    assert main(_args(copy, n_jobs=2)) == 0
    pd.testing.assert_frame_equal(pd.read_csv(copy / 'key_pathways.csv'), pd.read_csv(run_dir / 'key_pathways.csv'))
    assert {p.name for p in (copy / 'figures').iterdir()} == {p.name for p in (run_dir / 'figures').iterdir()}
    assert pd.read_csv(copy / 'key_pathways.csv').problem.nunique() == 2


def test_precision_reaches_both_survconvmixer_variants_only():
    from survconvmixer.cli import build_parser, config_from_args
    from survconvmixer.demo import synthetic_pathways
    from survconvmixer.methods import method_factories
    args = ['reproduce', '--models', 'SurvConvMixer,SurvConvMixerConv1D,LogisticRegression',
            '--precision', 'bfloat16_pointwise']
    cfg = config_from_args(build_parser().parse_args(args))
    assert cfg.precision == 'bfloat16_pointwise'
    factories = method_factories(cfg.models, synthetic_pathways(), quick=cfg.fast, precision=cfg.precision)
    made = {name: factory(random_state=0) for name, factory in factories.items()}
    assert made['SurvConvMixer'].precision == made['SurvConvMixerConv1D'].precision == 'bfloat16_pointwise'
    assert 'precision' not in made['LogisticRegression'].get_params()
    with pytest.raises(SystemExit):
        build_parser().parse_args(['reproduce', '--precision', 'float16'])
