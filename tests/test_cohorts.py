"""Cohort files and runs with several training and external cohorts (issue 15, item 1): the file's checks, merging,
stratification by cohort x label, metrics per cohort, and `reproduce --cohorts` end to end on the demo and on the
real LUAD cohort split into two pseudo-cohorts."""
import hashlib, json, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from survconvmixer.cli import main
from survconvmixer.cohorts import load_cohorts, merge_cohorts, read_cohort_file, write_demo_cohorts
from survconvmixer.pathways import load_collection
from survconvmixer.validation import ValidationRun, fold_tasks, make_problems, run_validation


@pytest.fixture(scope='module')
def four(tmp_path_factory) -> Path:
    "The demo as two training and two external cohorts, written as files with cohorts.toml."
    return write_demo_cohorts(tmp_path_factory.mktemp('four'), n_train=400, n_external=170, seed=3)


def _problems(cohort_file: Path, horizons=None):
    trains, externals, _ = load_cohorts(read_cohort_file(cohort_file))
    genes = load_collection(cohort_file.parent / 'pathways.gmt').genes
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return make_problems(trains, externals, horizons or {'mid': 3.0}, prefix='four', genes=genes), trains


def test_folds_are_stratified_on_cohort_and_label(four):
    (problem,), trains = _problems(four)
    tasks = fold_tasks([problem], ['m'], n_repeats=2, n_splits=4, seed=0)
    origin = problem.cohort_train
    for t in tasks:
        held = origin.iloc[list(t.test_index)].value_counts()
        assert abs(held['train-A'] - held['train-B']) <= 2, held       # 200 and 200 patients: 50 / 50 per fold
        labels = problem.y_train.iloc[list(t.test_index)].fillna(2)
        share = labels.groupby(origin.iloc[list(t.test_index)]).value_counts(normalize=True).unstack()
        overall = problem.y_train.fillna(2).groupby(origin).value_counts(normalize=True).unstack()
        assert (share - overall).abs().to_numpy().max() < 0.05


def test_per_cohort_metrics_equal_a_hand_refit(four):
    "A training cohort's IV row is the AUC on its own held-out patients; an external cohort's EV row on its own patients."
    problem, run, model, tr, te = _run_and_refit(four, fold=1)
    rows = run.cohort_folds
    assert set(zip(rows.cohort, rows.role)) == {('train-A', 'train'), ('train-B', 'train'),
                                                ('external-A', 'external'), ('external-B', 'external')}
    held = problem.X_train.iloc[te]
    mine = (problem.cohort_train.iloc[te] == 'train-B').to_numpy() & problem.y_train.iloc[te].notna().to_numpy()
    expected = roc_auc_score(problem.y_train.iloc[te][mine].astype(int), model.predict_proba(held[mine])[:, 1])
    row = rows[(rows.cohort == 'train-B') & (rows.fold == 1)]
    assert row.iv_auc.item() == pytest.approx(expected, abs=1e-12)
    assert row.n_test_all.item() == int((problem.cohort_train.iloc[te] == 'train-B').sum())
    ext = (problem.cohort_external == 'external-A').to_numpy() & problem.y_external.notna().to_numpy()
    expected = roc_auc_score(problem.y_external[ext].astype(int), model.predict_proba(problem.X_external[ext])[:, 1])
    row = rows[(rows.cohort == 'external-A') & (rows.fold == 1)]
    assert row.ev_auc.item() == pytest.approx(expected, abs=1e-12) and np.isnan(row.iv_auc.item())


def _run_and_refit(four, fold: int):
    """A 1 x 3-fold run of a pathway-gene logistic regression on the 3-year problem, and fold `fold` refitted by hand:
    (problem, run, the refitted model, its training rows, its held-out rows)."""
    (problem,), _ = _problems(four)
    genes = load_collection(four.parent / 'pathways.gmt').genes
    factory = lambda random_state=0: _Select(genes)
    run = run_validation([problem], {'LR': factory}, n_repeats=1, n_splits=3, progress=False)
    task = fold_tasks([problem], ['LR'], 1, 3)[fold]
    tr, te = list(task.train_index), list(task.test_index)
    fit = problem.y_train.iloc[tr].notna().to_numpy()
    model = factory().fit(problem.X_train.iloc[tr][fit], problem.y_train.iloc[tr][fit].astype(int))
    return problem, run, model, tr, te

class _Select(LogisticRegression):
    "A logistic regression on the pathway genes (by name)."
    def __init__(self, genes=None, C=0.1, max_iter=500):
        super().__init__(C=C, max_iter=max_iter)
        self.genes = genes
    def fit(self, X, y): return super().fit(X[list(self.genes)].to_numpy(), y)
    def predict_proba(self, X): return super().predict_proba(X[list(self.genes)].to_numpy())


def test_one_cohort_per_role_in_lists_is_the_plain_run(four):
    "Lists of one cohort each give the very same problems as the cohorts themselves: old runs are unchanged."
    trains, externals, _ = load_cohorts(read_cohort_file(four))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        plain = make_problems(trains[0], externals[0], {'mid': 3.0})[0]
        listed = make_problems([trains[0]], [externals[0]], {'mid': 3.0})[0]
    pd.testing.assert_frame_equal(plain.X_train, listed.X_train)
    assert listed.cohort_train is None and listed.cohort_external is None


def test_merge_refuses_shared_sample_ids_and_fold_scaling(four):
    trains, _, _ = load_cohorts(read_cohort_file(four))
    genes = load_collection(four.parent / 'pathways.gmt').genes
    clash = trains[1].subset(trains[1].samples)
    clash.expression.index = clash.clinical.index = trains[0].samples[:len(clash)]
    with pytest.raises(ValueError, match=r"in more than one cohort \(train-A, train-B\)"):
        merge_cohorts([trains[0], clash], genes)
    with pytest.raises(ValueError, match="scaling='cohort'"):
        make_problems(trains, None, {'mid': 3.0}, scaling='fold', genes=genes)


def _cli(*args) -> tuple[int, str]:
    import contextlib, io
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err): code = main(list(args))
    return code, err.getvalue()


@pytest.mark.parametrize('edit, message', [
    (('--expression', 'x.csv'), '--cohorts names every cohort of the run: drop --expression'),
    (('--scaling', 'fold'), 'use --scaling cohort'),
])
def test_reproduce_refuses_cohorts_with_conflicting_options(four, tmp_path, edit, message):
    code, err = _cli('reproduce', '--cohorts', str(four), '--pathways', str(four.parent / 'pathways.gmt'), *edit,
                     '--out', str(tmp_path / 'run'), '--quiet')
    assert code == 2 and message in err and 'Traceback' not in err, err
    assert not (tmp_path / 'run').exists()


def test_bad_cohort_file_is_one_line_naming_file_and_cohort(four, tmp_path):
    bad = four.parent / 'bad.toml'
    bad.write_text(four.read_text().replace('external-B_clinical.csv', 'missing.csv'))
    code, err = _cli('reproduce', '--cohorts', str(bad), '--pathways', str(four.parent / 'pathways.gmt'),
                     '--out', str(tmp_path / 'run'), '--quiet')
    assert code == 2 and 'Traceback' not in err
    line = err.strip().splitlines()[-1]
    assert "bad.toml, cohort 4 ('external-B')" in line and 'missing.csv' in line, err


def test_train_on_two_cohorts_and_predict_with_a_reference_cohort(four, tmp_path):
    "train --cohorts with two training cohorts keeps both cohorts' ranges; predict asks which one new patients are like."
    model_dir = tmp_path / 'model'
    code, err = _cli('train', '--cohorts', str(four), '--pathways', str(four.parent / 'pathways.gmt'), '--method',
                     'LogisticRegression', '--horizons', '3', '--cut-folds', '2', '--out', str(model_dir), '--quiet')
    assert code == 0, err
    meta = json.loads((model_dir / 'model.json').read_text())
    assert list(meta['ranges']) == ['train-A', 'train-B'] and meta['training']['cohorts'] == ['train-A', 'train-B']
    b = four.parent / 'train-B_expression.csv'
    code, err = _cli('predict', '--model', str(model_dir), '--expression', str(b), '--out', str(tmp_path / 'p0'))
    assert code == 2 and '--reference-cohort' in err and 'train-A, train-B' in err, err
    code, err = _cli('predict', '--model', str(model_dir), '--expression', str(b), '--reference-cohort', 'train-B',
                     '--out', str(tmp_path / 'p1'), '--quiet')
    assert code == 0, err
    from survconvmixer.deploy import load_model
    model = load_model(model_dir)
    trains, _, _ = load_cohorts(read_cohort_file(four))
    merged, _ = merge_cohorts(trains, model.genes)
    inside = model.estimators['mid'].predict_proba(merged.expression.loc[trains[1].samples])[:, 1]
    scored = pd.read_csv(tmp_path / 'p1' / 'predictions.csv', index_col='sample_id')
    np.testing.assert_allclose(scored.p_mid.to_numpy(), inside, rtol=1e-9)   # B's own ranges: as in training


def test_reproduce_with_two_training_and_two_external_cohorts(four, tmp_path):
    "The whole run from a cohort file: per-cohort Table 1 and folds, the report, the manifest, then a resume."
    out = tmp_path / 'run'
    args = ['reproduce', '--cohorts', str(four), '--pathways', str(four.parent / 'pathways.gmt'),
            '--models', 'SurvConvMixer,LogisticRegression', '--horizons', '3', '--repeats', '1', '--folds', '2',
            '--n-jobs', '1', '--out', str(out), '--quiet']
    code, err = _cli(*args)
    assert code == 0, err
    by_cohort = pd.read_csv(out / 'cohort_table1.csv')
    assert set(zip(by_cohort.cohort, by_cohort.validation)) == {('train-A', 'IV'), ('train-B', 'IV'),
                                                                ('external-A', 'EV'), ('external-B', 'EV')}
    assert by_cohort.estimate.between(0, 1).all() and (by_cohort.low <= by_cohort.high).all()
    folds = pd.read_csv(out / 'folds.csv')
    assert folds.cohort.value_counts().to_dict() == {c: 4 for c in ('pooled', 'train-A', 'train-B', 'external-A', 'external-B')}
    problems = pd.read_csv(out / 'problems.csv')
    assert problems.training_cohorts.item() == 'train-A, train-B'
    assert problems.n_train.item() == 400 and problems.n_external.item() == 170
    report = (out / 'report.html').read_text()
    assert 'Table 1 per cohort' in report and 'external-B (EV)' in report
    assert (out / 'key_pathways.csv').exists()
    manifest = json.loads((out / 'manifest.json').read_text())
    assert len(manifest['input_checksums']) == 10        # the cohort file, 8 cohort files, the pathways
    reopened = ValidationRun.open(out)
    assert len(reopened.cohort_folds) == 16
    code, err = _cli(*args)                     # complete: nothing refitted
    assert code == 0 and 'run already complete' in err, err


def test_luad_as_two_pseudo_cohorts(shared_dir, tmp_path):
    "The real TCGA-LUAD cohort split by tissue source site into two training cohorts, the second in months."
    d = shared_dir / 'data/real/tcga_luad_necroptosis160'
    gmt = shared_dir / 'data/pathways/kegg_pathways_in_cancer_40.gmt'
    if not d.is_dir() or not gmt.exists(): pytest.skip('the LUAD cohort or the KEGG pathways are absent')
    expression = pd.read_csv(d / 'expression.csv.gz', index_col=0)
    clinical = pd.read_csv(d / 'clinical.csv', index_col=0)
    sites = sorted({s.split('-')[1] for s in expression.index})
    first = {s for s in expression.index if s.split('-')[1] in set(sites[::2])}
    lines = []
    for name, samples, unit, factor in (('LUAD-A', [s for s in expression.index if s in first], 'days', 1.0),
                                        ('LUAD-B', [s for s in expression.index if s not in first], 'months', 1 / 30.4375)):
        expression.loc[samples].to_csv(tmp_path / f'{name}_expr.csv')
        clin = clinical.loc[samples].assign(os_time_days=lambda t: t.os_time_days * factor)
        clin.to_csv(tmp_path / f'{name}_clin.csv')
        lines += ['[[cohort]]', f'name = "{name}"', 'role = "train"', f'expression = "{name}_expr.csv"',
                  f'clinical = "{name}_clin.csv"', f'time_unit = "{unit}"', 'time_col = "os_time_days"', '']
    (tmp_path / 'luad.toml').write_text('\n'.join(lines))
    code, err = _cli('reproduce', '--cohorts', str(tmp_path / 'luad.toml'), '--pathways', str(gmt),
                     '--models', 'SurvConvMixer,CoxNet', '--horizons', '3', '--repeats', '1', '--folds', '3',
                     '--min-gene-overlap', '0', '--no-interpret', '--n-jobs', '1', '--out', str(tmp_path / 'run'), '--quiet')
    assert code == 0, err
    assert 'LUAD-A: ' in err and 'pathway genes are missing' in err       # announced per cohort
    by_cohort = pd.read_csv(tmp_path / 'run' / 'cohort_table1.csv')
    assert set(by_cohort.cohort) == {'LUAD-A', 'LUAD-B'} and set(by_cohort.validation) == {'IV'}
    assert by_cohort.estimate.notna().all()
    problems = pd.read_csv(tmp_path / 'run' / 'problems.csv')
    assert problems.n_train.item() == 464           # 4 patients with OS time <= 0 dropped


@pytest.mark.parametrize('name, roles', [('skcm.toml', {'TCGA-SKCM': 'train', 'DFCI-2015': 'external'}),
                                         ('luad.toml', {'TCGA-LUAD': 'train', 'OncoSG-2020': 'external'})])
def test_example_cohort_files_parse(name, roles):
    "The shipped cohort files for the paper's cancers are valid (their public studies are fetched only when read)."
    specs = read_cohort_file(Path(__file__).resolve().parents[1] / 'examples' / 'cohorts' / name)
    assert {s.name: s.role for s in specs} == roles
    assert {s.format for s in specs} == {'cbioportal'}


def test_cbioportal_expression_file_is_checked_in_a_local_study(tmp_path):
    study = tmp_path / 'study'; study.mkdir()
    (study / 'data_clinical_patient.txt').write_text('#a\n#b\n#c\n#d\nPATIENT_ID\tOS_MONTHS\tOS_STATUS\n')
    (tmp_path / 'c.toml').write_text('[[cohort]]\nname = "S"\nrole = "train"\nexpression = "study"\nformat = "cbioportal"\n'
                                     'expression_file = "data_mrna_seq_rpkm.txt"\n')
    with pytest.raises(FileNotFoundError, match=r"c.toml, cohort 1 \('S'\): file not found: .*data_mrna_seq_rpkm.txt"):
        read_cohort_file(tmp_path / 'c.toml')


from test_sources import PROBES, STUDY, cache, cbioportal_archive, geo_matrix, server, site, xena_files  # noqa: F401,E402


def test_cohort_file_with_public_sources_from_a_local_server(site, server, tmp_path, monkeypatch):
    "cbioportal:, xena: and geo: sources in a cohort file are fetched (local server), cached, read and checksummed."
    monkeypatch.setenv('SURVCONVMIXER_CACHE', str(tmp_path / 'cache'))
    archive = cbioportal_archive(site); xena_files(site); geo_matrix(site)
    pd.Series(PROBES).rename_axis('probe').rename('symbol').to_csv(tmp_path / 'probes.csv')
    text = f"""
[[cohort]]
name = "TCGA-toy"
role = "train"
expression = "cbioportal:{STUDY}"

[[cohort]]
name = "Xena-toy"
role = "external"
expression = "xena:tcga/TCGA.LUAD.sampleMap/HiSeqV2"
clinical = "xena:tcga/survival/LUAD_survival.txt"

[[cohort]]
name = "GEO-toy"
role = "external"
expression = "geo:GSE51088"
time_unit = "months"
probe_map = "probes.csv"
"""
    (tmp_path / 'public.toml').write_text(text)
    specs = read_cohort_file(tmp_path / 'public.toml')
    assert [s.format for s in specs] == ['cbioportal', 'xena', 'geo']
    trains, externals, hashes = load_cohorts(specs, progress=False)
    assert [len(c) for c in trains + externals] == [6, 6, 6]
    assert externals[1].os_years().max() == pytest.approx(60 / 12)
    assert hashes[f'cbioportal:{STUDY}'] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert set(hashes) == {f'cbioportal:{STUDY}', 'xena:tcga/TCGA.LUAD.sampleMap/HiSeqV2',
                           'xena:tcga/survival/LUAD_survival.txt', 'geo:GSE51088'}
    requests = len(server.seen)
    load_cohorts(specs, progress=False)                          # cached: no request
    assert len(server.seen) == requests
    (tmp_path / 'bad.toml').write_text(text.replace(f'expression = "cbioportal:{STUDY}"',
                                                    f'expression = "cbioportal:{STUDY}"\nexpression_sha256 = "{"0" * 64}"'))
    with pytest.raises(ValueError, match=r"bad.toml, cohort 1 \('TCGA-toy'\): .*0000000000"):
        load_cohorts(read_cohort_file(tmp_path / 'bad.toml'), progress=False)
    (tmp_path / 'odd.toml').write_text(text.replace('geo:GSE51088', 'geo:51088'))
    with pytest.raises(ValueError, match=r"odd.toml, cohort 3 \('GEO-toy'\): 'geo:51088': a GEO series id"):
        read_cohort_file(tmp_path / 'odd.toml')


def test_a_finished_run_with_fetched_studies_is_complete(tmp_path):
    "The manifest also records the public studies a cohort file fetched; a rerun still finds the run complete."
    from dataclasses import asdict
    from survconvmixer.pipeline import RunConfig, completed_run
    cfg = RunConfig(data='files', cohorts='c.toml', pathways='p.gmt', models=['KNN'], horizons={'mid': 3.0})
    sums = {'c.toml': 'aa', 'p.gmt': 'bb'}
    for name in ('run.sqlite', 'report.html'): (tmp_path / name).write_text('x')
    manifest = {'config': asdict(cfg), 'input_checksums': {**sums, 'cbioportal:luad': 'cc'}, 'outputs': ['report.html']}
    (tmp_path / 'manifest.json').write_text(json.dumps(manifest))
    assert completed_run(tmp_path, cfg, sums) is not None
    assert completed_run(tmp_path, cfg, {**sums, 'c.toml': 'changed'}) is None


@pytest.mark.parametrize('edit, message', [
    ('expression = "train-A_expression.csv"\n', 'expression = "train-A_expression.csv"\nexpression_sha256 = "' + 'a' * 64 + '"\n'),
    ('name = "train-A"', 'name = "pooled"'),
    ('name = "train-A"\n', 'name = "train-A"\norientation = "genes_x_samples"\n'),
])
def test_cohort_file_refuses_keys_it_would_ignore(four, tmp_path, edit, message):
    "A checksum on a local file, the reserved name 'pooled', and (below) a non-table cohort entry are refused."
    text = four.read_text().replace(edit, message, 1)
    if 'orientation' in message: text = text.replace('time_unit = "days"', 'format = "xena"', 1)
    (four.parent / 'k.toml').write_text(text)
    with pytest.raises(ValueError, match=r"k.toml, cohort 1 \('(train-A|pooled)'\): .*(local path|is taken|orientation applies)"):
        read_cohort_file(four.parent / 'k.toml')


def test_cohort_list_that_is_not_tables_is_refused(tmp_path):
    (tmp_path / 'x.toml').write_text('cohort = ["a", "b"]\n')
    with pytest.raises(ValueError, match=r"x.toml: no \[\[cohort\]\] tables"):
        read_cohort_file(tmp_path / 'x.toml')


def test_cli_options_that_a_cohort_file_sets_are_refused(four, tmp_path):
    code, err = _cli('reproduce', '--cohorts', str(four), '--pathways', str(four.parent / 'pathways.gmt'),
                     '--time-unit', 'days', '--out', str(tmp_path / 'run'))
    assert code == 2 and 'drop --time-unit (set them per cohort in the file)' in err, err


def test_the_same_sample_in_training_and_external_cohorts_is_said(four):
    trains, externals, _ = load_cohorts(read_cohort_file(four))
    genes = load_collection(four.parent / 'pathways.gmt').genes
    leaked = externals[0].subset(externals[0].samples)
    leaked.expression.index = leaked.clinical.index = pd.Index(trains[0].samples[:len(leaked)])
    with pytest.warns(UserWarning, match=r"85 sample id\(s\) are in a training and an external cohort"):
        make_problems(trains, [leaked, externals[1]], {'mid': 3.0}, genes=genes)


def test_a_cohort_without_comparable_pairs_loses_its_row_not_the_fold(four):
    "An external cohort whose only death has the longest follow-up has no Harrell's C; every fold still scores."
    trains, externals, _ = load_cohorts(read_cohort_file(four))
    genes = load_collection(four.parent / 'pathways.gmt').genes
    tiny = externals[1].subset(externals[1].samples[:15])
    years = tiny.os_years()
    tiny.clinical['os_event'] = (years == years.max()).astype(int)
    tiny.clinical['os_time'] = tiny.os_time.where(years != years.max(), tiny.os_time.max() + 1)
    tiny.name = 'external-tiny'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        problems = make_problems(trains, [externals[0], tiny], {'mid': 3.0}, prefix='four', genes=genes)
        run = run_validation(problems, {'LR': lambda random_state=0: _Select(genes)}, n_repeats=1, n_splits=2, progress=False)
    assert (run.folds.error == '').all() and run.folds.ev_auc.notna().all()
    rows = run.cohort_folds[run.cohort_folds.cohort == 'external-tiny']
    assert len(rows) == 2 and rows.ev_c_harrell.isna().all()


def test_resumed_run_keeps_its_rows_per_cohort(four, tmp_path):
    "Folds lost from the store are refitted; the rows per cohort come back the same, and none is left stale."
    import sqlite3
    (problem,), _ = _problems(four)
    genes = load_collection(four.parent / 'pathways.gmt').genes
    methods = {'LR': lambda random_state=0: _Select(genes)}
    run = run_validation([problem], methods, n_repeats=1, n_splits=3, out_dir=tmp_path, progress=False)
    with sqlite3.connect(tmp_path / 'run.sqlite') as db:
        db.execute("DELETE FROM folds WHERE fold = 1")
    again = run_validation([problem], methods, n_repeats=1, n_splits=3, out_dir=tmp_path, progress=False)
    drop = lambda t: t.drop(columns='seconds').reset_index(drop=True)
    pd.testing.assert_frame_equal(drop(again.cohort_folds), drop(run.cohort_folds))
    table = pd.read_csv(tmp_path / 'folds.csv')
    assert set(table.cohort) == {'pooled', 'train-A', 'train-B', 'external-A', 'external-B'}
    assert len(table) == 3 * 5


def test_training_cohort_reference_is_its_own_training_fold(four):
    "A training cohort's IPCW metrics weight its held-out patients by its own patients' censoring in the training fold."
    from survconvmixer.checks import survival_from_frame
    from survconvmixer.metrics import survival_metrics
    problem, run, model, tr, te = _run_and_refit(four, fold=0)
    mine_te = (problem.cohort_train.iloc[te] == 'train-A').to_numpy()
    mine_tr = (problem.cohort_train.iloc[tr] == 'train-A').to_numpy()
    risk = model.predict_proba(problem.X_train.iloc[te][mine_te])[:, 1]
    expected = survival_metrics(risk, survival_from_frame(problem.survival_train.iloc[te][mine_te]),
                                survival_from_frame(problem.survival_train.iloc[tr][mine_tr]), 3.0,
                                problem.y_train.iloc[te][mine_te].to_numpy(float), risk)
    row = run.cohort_folds[(run.cohort_folds.cohort == 'train-A') & (run.cohort_folds.fold == 0)]
    for metric in ('td_auc', 'c_uno', 'brier'):
        assert row[f'iv_{metric}'].item() == pytest.approx(expected[metric], abs=1e-12), metric
