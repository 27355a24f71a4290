"""Issue 18: bad inputs and faults as a user meets them on the command line. Each case: `main([...])`, its exit
status, and one line on stderr (no traceback); the run folder never corrupted, inputs that cannot silently lie.
The model-file cases (truncated, missing `.keras`) are in test_cli.py, which has a SurvConvMixer run."""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from survconvmixer import pipeline
from survconvmixer.cli import main
from survconvmixer.demo import simulate_demo
from survconvmixer.pathways import write_gmt

BASE = ['reproduce', '--models', 'LogisticRegression', '--horizons', '3', '--folds', '2', '--n-jobs', '1', '--quiet',
        '--no-interpret']
DEMO = BASE + ['--n-train', '300', '--n-external', '100']


def run(capsys, *args):
    "main(args) -> (exit status, stdout, stderr)."
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str, start: str = 'error: ') -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start) and 'Traceback' not in err, err
    return lines[0]


# ---------------------------------------------------------------- a cohort as files
@pytest.fixture(scope='module')
def cohort_files(tmp_path_factory):
    "The demo's training cohort (days) and external cohort (months) as CSV tables, and its pathways as a GMT."
    d = tmp_path_factory.mktemp('cohort')
    demo = simulate_demo(n_train=300, n_external=100, n_background_genes=50, seed=0)
    demo.train.expression.to_csv(d / 'expression.csv')
    demo.train.clinical.to_csv(d / 'clinical.csv')
    demo.external.expression.to_csv(d / 'ext_expression.csv')
    demo.external.clinical.to_csv(d / 'ext_clinical.csv')
    write_gmt(demo.pathways, d / 'pathways.gmt')
    return d, demo


def files_args(d: Path, expression='expression.csv', clinical='clinical.csv', unit='days') -> list[str]:
    return BASE + ['--expression', str(d / expression), '--clinical', str(d / clinical), '--time-unit', unit,
                   '--pathways', str(d / 'pathways.gmt'), '--name', 'toy']


# ---------------------------------------------------------------- 1. one run per folder
def test_second_run_on_the_same_out_is_refused_and_a_stale_lock_taken_over(tmp_path, capsys):
    out = tmp_path / 'run'
    out.mkdir()
    holder = subprocess.Popen([sys.executable, '-c', textwrap.dedent(f"""
        import time
        from survconvmixer.pipeline import RunLock
        lock = RunLock({str(out)!r}).acquire()
        print('locked', flush=True)
        time.sleep(120)""")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        code, _, err = run(capsys, *DEMO, '--out', str(out))
        assert code == 2
        line = one_error_line(err)
        assert f'is in use by process {holder.pid} (started ' in line and 'wait for it or use another --out' in line
        assert not (out / 'folds.csv').exists()
    finally:
        holder.kill(); holder.wait()
    assert (out / '.lock').read_text().split()[0] == str(holder.pid)    # a stale lock of a dead process
    code, _, _ = run(capsys, *DEMO, '--out', str(out))
    assert code == 0
    assert len(pd.read_csv(out / 'folds.csv')) == 2                    # each fold once
    assert not (out / '.lock').exists()


# ---------------------------------------------------------------- 2. resume checks content
def test_changed_input_is_refused_and_restart_starts_again(cohort_files, tmp_path, capsys):
    d, _ = cohort_files
    src = tmp_path / 'in'; src.mkdir()
    for f in ('expression.csv', 'clinical.csv', 'pathways.gmt'): (src / f).write_bytes((d / f).read_bytes())
    out = str(tmp_path / 'run')
    assert run(capsys, *files_args(src), '--out', out)[0] == 0
    clinical = pd.read_csv(src / 'clinical.csv', index_col=0)
    clinical.iloc[0, 0] += 1.0                                          # same path, other content
    clinical.to_csv(src / 'clinical.csv')
    code, _, err = run(capsys, *files_args(src), '--out', out)
    assert code == 2
    line = one_error_line(err)
    assert 'changed since the run' in line and 'clinical.csv' in line and 'expression.csv' not in line and '--restart' in line
    code, out_text, _ = run(capsys, *files_args(src), '--out', out, '--restart')
    assert code == 0 and 'done in' in out_text
    from survconvmixer.report import sha256
    sums = json.loads((Path(out) / 'config.json').read_text())['input_checksums']
    assert sums[str(src / 'clinical.csv')] == sha256(src / 'clinical.csv')


def test_torn_store_and_torn_config_are_named(tmp_path, capsys):
    out = tmp_path / 'run'
    assert run(capsys, *DEMO, '--out', str(out))[0] == 0
    (out / 'run.sqlite').write_bytes(b'not a database' * 100)
    code, _, err = run(capsys, *DEMO, '--out', str(out))
    assert code == 2 and 'run.sqlite is not a readable run store' in one_error_line(err)
    (out / 'config.json').write_text('{"preset": "qu')
    code, _, err = run(capsys, *DEMO, '--out', str(out))
    assert code == 2 and 'config.json is not a readable run configuration' in one_error_line(err)


# ---------------------------------------------------------------- 6. a finished run is not redone
def test_rerun_of_a_finished_run_redoes_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / 'run'
    assert run(capsys, *DEMO, '--out', str(out))[0] == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob('*') if p.is_file()}
    def no_inputs(*a, **k): raise AssertionError('inputs read again')
    monkeypatch.setattr(pipeline, 'load_inputs', no_inputs)
    t0 = time.perf_counter()
    code, out_text, err = run(capsys, *DEMO, '--out', str(out))
    assert code == 0 and time.perf_counter() - t0 < 10
    assert out_text.strip() == f'run already complete: {out / "report.html"}' and err == ''
    assert {p: p.stat().st_mtime_ns for p in out.rglob('*') if p.is_file()} == before
    (out / 'figures' / 'auc_boxes.png').unlink()                      # an output missing: not complete
    monkeypatch.undo()
    code, out_text, _ = run(capsys, *DEMO, '--out', str(out))
    assert code == 0 and 'done in' in out_text and (out / 'figures' / 'auc_boxes.png').exists()


# ---------------------------------------------------------------- 3a. gene overlap
@pytest.mark.parametrize('rename,kind,fix', [
    (lambda i, g: f'ENSG{i + 10**10:011d}', 'Ensembl gene ids', 'map the Ensembl ids to gene symbols'),
    (lambda i, g: str(i + 1000), 'Entrez gene ids', 'map the Entrez ids to gene symbols'),
    (lambda i, g: g.lower(), 'lower- or mixed-case gene symbols', 'upper-case the gene names')])
def test_cohort_without_the_pathway_genes_is_refused(cohort_files, tmp_path, capsys, rename, kind, fix):
    d, demo = cohort_files
    e = demo.train.expression
    e.set_axis([rename(i, g) for i, g in enumerate(e.columns)], axis=1).to_csv(tmp_path / 'expression.csv')
    for f in ('clinical.csv', 'pathways.gmt'): (tmp_path / f).write_bytes((d / f).read_bytes())
    out = tmp_path / 'run'
    code, _, err = run(capsys, *files_args(tmp_path), '--out', str(out))
    assert code == 2
    line = one_error_line(err)
    assert 'toy: only 0 of 280 pathway genes (0%) are in the cohort' in line and '--min-gene-overlap' in line
    assert f'look like {kind}' in line and fix in line
    assert not out.exists()


# ---------------------------------------------------------------- 3b, 9. duplicated genes, missing genes said once
def test_duplicated_gene_is_averaged_and_missing_genes_said_once(cohort_files, tmp_path, capfd):
    d, demo = cohort_files
    e = demo.train.expression
    e = e.drop(columns=list(e.columns[5:25]))                          # 20 of 280 pathway genes missing
    pd.concat([e, e[['SG0001']] + 1.0], axis=1).to_csv(tmp_path / 'expression.csv')   # SG0001 twice in the header
    for f in ('clinical.csv', 'pathways.gmt'): (tmp_path / f).write_bytes((d / f).read_bytes())
    code = main(files_args(tmp_path) + ['--out', str(tmp_path / 'run'), '--n-jobs', '2', '--models',
                                        'LogisticRegression,KNN'])
    err = capfd.readouterr().err                                      # workers' stderr included
    assert code == 0, err
    assert err.count("warning: toy: 1 gene symbol(s) appear in several columns and were averaged: 'SG0001'") == 1, err
    assert err.count('pathway genes are missing') == 1, err           # announced once, not once per fit
    assert 'toy: 20 of 280 pathway genes are missing' in err
    assert 'Traceback' not in err and 'oneDNN' not in err


# ---------------------------------------------------------------- 3c. survival times against their unit
def test_times_implausible_for_their_unit_are_refused(cohort_files, capsys, tmp_path):
    d, _ = cohort_files
    code, _, err = run(capsys, *files_args(d, unit='years'), '--out', str(tmp_path / 'run'))
    assert code == 2
    line = one_error_line(err)
    assert "with time unit 'years', the longest survival reads 4,353 years and the median 998 years" in line
    assert 'are the times in days?' in line and '--time-unit' in line
    assert not (tmp_path / 'run').exists()


# ---------------------------------------------------------------- 3d. partial external options
@pytest.mark.parametrize('given,missing', [('--external-clinical', 'expression'), ('--external-expression', 'clinical')])
def test_partial_external_options_are_refused(cohort_files, capsys, tmp_path, given, missing):
    d, _ = cohort_files
    code, _, err = run(capsys, *files_args(d), given, str(d / 'ext_clinical.csv'), '--out', str(tmp_path / 'run'))
    assert code == 2
    line = one_error_line(err)
    assert 'give both --external-expression and --external-clinical' in line and f'the {missing} file' in line


def test_external_cohort_in_another_unit(cohort_files, capsys, tmp_path):
    "The external demo cohort is in months, the training one in days: refused under one unit, read with its own."
    d, _ = cohort_files
    args = files_args(d) + ['--external-expression', str(d / 'ext_expression.csv'), '--external-clinical',
                            str(d / 'ext_clinical.csv'), '--out', str(tmp_path / 'run')]
    code, _, err = run(capsys, *args)
    assert code == 2
    line = one_error_line(err)
    assert "external: with time unit 'days', the longest survival reads 0.29 years" in line and 'in months?' in line
    code, _, err = run(capsys, *args, '--external-time-unit', 'months')
    assert code == 0, err
    assert pd.read_csv(tmp_path / 'run' / 'folds.csv').ev_auc.notna().all()


# ---------------------------------------------------------------- 4. every bad argument, before anything
@pytest.mark.parametrize('option,value,text', [
    ('--seed', '-5', '--seed must be 0 or more'), ('--n-jobs', '0', '--n-jobs must be at least 1'),
    ('--repeats', '0', '--repeats must be at least 1'), ('--folds', '1', '--folds must be at least 2'),
    ('--name', 'LU/AD', "--name 'LU/AD' must be letters"), ('--name', '../x', "--name '../x'"),
    ('--n-train', '10', '--n-train must be at least 50'), ('--models', 'XGBoost', "unknown model(s) 'XGBoost'"),
    ('--scheduler', 'localhost:8786', 'like tcp://host:8786'), ('--min-gene-overlap', '1.5', 'between 0 and 1'),
    ('--seed', 'x', "argument --seed: invalid int value: 'x'"), ('--horizons', 'soon', "bad horizon 'soon'"),
    ('--nan-policy', 'median', "argument --nan-policy: invalid choice: 'median'")])
def test_bad_argument_is_one_line_and_claims_nothing(capsys, tmp_path, monkeypatch, option, value, text):
    def no_inputs(*a, **k): raise AssertionError('inputs read')
    monkeypatch.setattr(pipeline, 'load_inputs', no_inputs)
    out = tmp_path / 'run'
    t0 = time.perf_counter()
    code, _, err = run(capsys, *DEMO, option, value, '--out', str(out))
    assert code == 2 and text in one_error_line(err) and time.perf_counter() - t0 < 5
    assert not out.exists()


def test_out_that_is_a_file_or_under_one_is_refused(capsys, tmp_path):
    (tmp_path / 'file').write_text('x')
    code, _, err = run(capsys, *DEMO, '--out', str(tmp_path / 'file'))
    assert code == 2 and 'is a file; give a folder' in one_error_line(err)
    code, _, err = run(capsys, *DEMO, '--out', str(tmp_path / 'file' / 'run'))
    assert code == 2 and 'which is a file' in one_error_line(err)


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes anywhere')
def test_out_in_a_read_only_folder_is_refused(capsys, tmp_path):
    ro = tmp_path / 'ro'; ro.mkdir(); ro.chmod(0o500)
    try:
        code, _, err = run(capsys, *DEMO, '--out', str(ro / 'run'))
        assert code == 2 and 'is not writable' in one_error_line(err)
    finally: ro.chmod(0o700)


def test_failed_run_leaves_no_folder_it_made(capsys, tmp_path):
    out = tmp_path / 'a' / 'b' / 'run'
    code, _, err = run(capsys, *DEMO, '--horizons', '0.05', '--out', str(out))   # fails after the lock: no event
    assert code == 2 and 'every problem was skipped' in one_error_line(err)
    assert not (tmp_path / 'a').exists()
    kept = tmp_path / 'mine'; kept.mkdir()
    assert run(capsys, *DEMO, '--horizons', '0.05', '--out', str(kept))[0] == 2
    assert kept.is_dir() and not any(kept.iterdir())                   # the user's folder kept, as it was


# ---------------------------------------------------------------- 5. no raw traceback
def test_unexpected_exception_is_an_internal_error_line(capsys, tmp_path, monkeypatch):
    def boom(*a, **k): raise RuntimeError('boom\nsecond line')
    monkeypatch.setattr(pipeline, 'load_inputs', boom)
    code, _, err = run(capsys, *DEMO, '--out', str(tmp_path / 'run'))
    assert code == 1
    assert one_error_line(err, 'internal error: ') == \
        'internal error: RuntimeError: boom second line (rerun with --debug for the traceback)'
    assert not (tmp_path / 'run').exists()
    code, _, err = run(capsys, *DEMO, '--out', str(tmp_path / 'run'), '--debug')
    assert code == 1 and 'Traceback (most recent call last)' in err and "RuntimeError: boom" in err


def test_long_message_is_cut(capsys, tmp_path):
    code, _, err = run(capsys, *DEMO, '--models', ','.join(f'M{i}' for i in range(200)), '--out', str(tmp_path / 'r'))
    assert code == 2 and len(one_error_line(err)) < 600 and '(+195 more)' in err


# ---------------------------------------------------------------- 10. unhelpful failures made clear
def test_file_problems_name_the_file(cohort_files, capsys, tmp_path):
    d, _ = cohort_files
    for f in ('clinical.csv', 'pathways.gmt'): (tmp_path / f).write_bytes((d / f).read_bytes())
    cases = {'empty.csv': (b'', 'empty.csv is empty (0 bytes)'),
             'header.csv': (b'sample_id,SG0001,SG0002\n', 'header.csv has a header line but no data rows'),
             'book.xlsx': (b'PK\x03\x04data', 'Excel files are not read: save the sheet as CSV'),
             'book.csv': (b'PK\x03\x04data', 'book.csv is an Excel workbook')}
    for name, (content, text) in cases.items():
        (tmp_path / name).write_bytes(content)
        code, _, err = run(capsys, *files_args(tmp_path, expression=name), '--out', str(tmp_path / 'run'))
        assert code == 2 and text in one_error_line(err), (name, err)
        assert not (tmp_path / 'run').exists()
    code, _, err = run(capsys, *files_args(tmp_path, expression='header.csv'), '--format', 'cbioportal', '--time-unit', 'months',
                       '--out', str(tmp_path / 'run'))
    assert code == 2 and 'reads a study folder' in one_error_line(err)


def test_semicolon_csv_is_read(cohort_files, capsys, tmp_path):
    d, _ = cohort_files
    for f in ('expression.csv', 'clinical.csv'):
        pd.read_csv(d / f, index_col=0).to_csv(tmp_path / f, sep=';')
    (tmp_path / 'pathways.gmt').write_bytes((d / 'pathways.gmt').read_bytes())
    code, _, err = run(capsys, *files_args(tmp_path), '--out', str(tmp_path / 'run'))
    assert code == 0, err


def test_nan_cells_need_a_policy(cohort_files, capsys, tmp_path):
    d, demo = cohort_files
    e = demo.train.expression.copy()
    e.iloc[3, 2] = float('nan')
    e.to_csv(tmp_path / 'expression.csv')
    for f in ('clinical.csv', 'pathways.gmt'): (tmp_path / f).write_bytes((d / f).read_bytes())
    code, _, err = run(capsys, *files_args(tmp_path), '--out', str(tmp_path / 'run'))
    assert code == 2
    assert 'choose a nan_policy (--nan-policy): drop_genes, drop_samples, zero or gene_mean' in one_error_line(err)
    code, _, err = run(capsys, *files_args(tmp_path), '--out', str(tmp_path / 'run'), '--nan-policy', 'gene_mean')
    assert code == 0 and "warning: toy: set 1 missing expression value(s) to the gene's mean" in err, err


def test_too_few_samples_for_the_folds(cohort_files, capsys, tmp_path):
    d, demo = cohort_files
    demo.train.expression.iloc[:12].to_csv(tmp_path / 'expression.csv')
    demo.train.clinical.iloc[:12].to_csv(tmp_path / 'clinical.csv')
    (tmp_path / 'pathways.gmt').write_bytes((d / 'pathways.gmt').read_bytes())
    code, _, err = run(capsys, *files_args(tmp_path), '--folds', '5', '--out', str(tmp_path / 'run'))
    assert code == 2
    line = one_error_line(err)
    assert 'every problem was skipped: toy-mid: too few events' in line and '5-fold CV needs at least 10' in line


# ---------------------------------------------------------------- 11. problems with few events
def test_problem_with_few_events_is_skipped_and_the_run_goes_on(capsys, tmp_path):
    out = tmp_path / 'run'
    code, _, err = run(capsys, *DEMO, '--horizons', '0.05,3', '--out', str(out))
    assert code == 0, err
    problems = pd.read_csv(out / 'problems.csv').set_index('problem')
    assert problems.loc['demo-0.05y', 'skipped'].startswith('too few events: ')
    assert pd.isna(problems.loc['demo-mid', 'skipped'])
    assert 'skipping demo-0.05y: too few events' in err
    assert set(pd.read_csv(out / 'folds.csv').problem) == {'demo-mid'}
    assert 'too few events' in (out / 'report.html').read_text()


# ---------------------------------------------------------------- 8. processes
def test_unreachable_scheduler_fails_fast(capsys, tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    t0 = time.perf_counter()
    code, _, err = run(capsys, *DEMO, '--scheduler', f'tcp://127.0.0.1:{port}', '--out', str(tmp_path / 'run'))
    assert code == 2 and time.perf_counter() - t0 < 30
    assert f'cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 5 s' in one_error_line(err)
    assert not (tmp_path / 'run').exists()


def _alive(pid: int) -> bool:
    try: state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, IndexError): return False
    return state not in ('Z', 'X')


@pytest.mark.skipif(not Path('/proc').is_dir(), reason='needs /proc')
def test_workers_end_when_the_main_process_is_killed(tmp_path):
    "SIGKILL of the main process during fits: the loky workers (busy for 2 minutes) exit within seconds."
    script = textwrap.dedent(f"""
        import os, time
        from survconvmixer.demo import simulate_demo
        from survconvmixer.validation import make_problems, run_validation
        class Slow:
            def fit(self, X, y):
                open(os.path.join({str(tmp_path)!r}, f'worker-{{os.getpid()}}'), 'w').close()
                time.sleep(120)
        demo = simulate_demo(n_train=200, n_external=50, n_background_genes=5, seed=0)
        problems = make_problems(demo.train, demo.external, {{'mid': 3.0}}, prefix='demo')
        run_validation(problems, {{'Slow': lambda random_state=0: Slow()}}, n_repeats=1, n_splits=2, n_jobs=2,
                       progress=False)""")
    parent = subprocess.Popen([sys.executable, '-c', script])
    workers = []
    try:
        deadline = time.time() + 90
        while len(workers) < 2 and time.time() < deadline:
            time.sleep(0.5)
            workers = [int(p.name.split('-')[1]) for p in tmp_path.glob('worker-*')]
        assert len(workers) == 2, 'workers did not start'
        parent.send_signal(signal.SIGKILL); parent.wait()
        deadline = time.time() + 10
        while any(_alive(w) for w in workers) and time.time() < deadline: time.sleep(0.2)
        assert not any(_alive(w) for w in workers)
    finally:
        parent.kill(); parent.wait()
        for w in workers:
            if _alive(w): os.kill(w, signal.SIGKILL)


# ---------------------------------------------------------------- 9. a quiet console
def test_console_has_no_tensorflow_start_up_lines(tmp_path):
    "The real command in a fresh process, with worker processes: no oneDNN/CUDA/absl lines, no warning repeated."
    cmd = [sys.executable, '-c', 'import sys; from survconvmixer.cli import main; sys.exit(main())',
           *DEMO[:DEMO.index('--n-jobs')], *DEMO[DEMO.index('--n-jobs') + 2:], '--n-jobs', '2', '--out', str(tmp_path / 'run')]
    env = {k: v for k, v in os.environ.items() if k not in ('TF_CPP_MIN_LOG_LEVEL', 'PYTHONWARNINGS')}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    for noise in ('oneDNN', 'absl::InitializeLog', 'cuda', 'I0000', 'Traceback'):
        assert noise not in done.stderr, done.stderr
    assert done.stdout.startswith('done in ')
