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


def test_rerun_resumes_and_reinterprets(run_dir):
    before = pd.read_csv(run_dir / 'folds.csv')
    assert main(_args(run_dir)) == 0
    after = pd.read_csv(run_dir / 'folds.csv')
    pd.testing.assert_frame_equal(before, after)           # nothing refitted
    assert len(pd.read_csv(run_dir / 'key_pathways.csv')) == 2 * 2 * 40   # 2 problems x 2 kinds of maps


def test_missing_model_file_is_a_clear_error(run_dir, tmp_path, capsys):
    import shutil
    copy = tmp_path / 'copy'
    shutil.copytree(run_dir, copy)
    next((copy / 'models').glob('*.keras')).unlink()
    assert main(_args(copy)) == 2
    assert 'are missing' in capsys.readouterr().err


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
