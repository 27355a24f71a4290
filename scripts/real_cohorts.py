#!/usr/bin/env python
"""SurvConvMixer against the baselines on the two real cohorts of ../shared/data/real (internal validation only).

The genome-wide ovarian cohort GSE51088 (151 tumours, 148 of the 295 pathway genes measured) and the TCGA-LUAD
necroptosis panel (468 patients, 160 genes, so most pathway genes are zero-padded) go through `survconvmixer
reproduce` as a user would run it: the paper preset's method settings, 2 x 5-fold CV at 3 years, no external cohort.
Each cohort's Table 1 (IV mean AUC with its interval, SurvConvMixer minus each method on the same folds with the
corrected repeated-CV t interval) lands in `nbs/evidence/real_cohorts.csv`, which the methods notebook shows.

    python scripts/real_cohorts.py                   # about 20 minutes on 2 cores; needs ../shared beside the clone
    python scripts/real_cohorts.py --pooling flatten --cohorts LUAD-necroptosis \
        --models SurvConvMixer,RandomForest,LogisticRegression,CoxNet \
        --out nbs/evidence/real_cohorts_luad_flatten.csv     # SurvConvMixer with the flattened head (training page)

With `--pooling`, SurvConvMixer is the network with that pooling for the whole run (the registry's entry is swapped
in this process); its run folders are `<runs>/<pooling>/<cohort>`, and only the output CSV's `pooling` column says
which network it was (the run folder's own config names the method, not its pooling). A run with another method
set needs its own `--runs` folder: a run folder resumes only the run that made it.

The committed `nbs/evidence/real_cohorts.csv` was measured when SurvConvMixer's default was the paper's average
pooling; without `--pooling` a rerun gets today's default (`'auto'`: the flattened head at these sizes), so pass
`--pooling average --out ...` to reproduce it.
"""
from __future__ import annotations
import argparse, os, sys
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import writes_default_out  # noqa: E402 (scripts/_probe.py: argparse helpers)
SHARED = ROOT.parent / 'shared' / 'data'
MODELS = 'SurvConvMixer,SurvConvMixerHazard,LogisticRegression,CoxNet,RandomForest,RandomSurvivalForest'
COHORTS = {   # name: (folder, extra arguments)
    'OV-GSE51088': ('ovarian_gse51088', ['--nan-policy', 'gene_mean']),
    'LUAD-necroptosis': ('tcga_luad_necroptosis160', ['--min-gene-overlap', '0.1']),
}


def use_pooling(pooling: str):
    "Make the registry's SurvConvMixer the network with `pooling` (e.g. 'flatten') for the runs of this process."
    from dataclasses import replace
    from functools import partial
    from survconvmixer import methods
    method = methods.METHODS['SurvConvMixer']
    methods.METHODS['SurvConvMixer'] = replace(method, make=partial(method.make, pooling=pooling))


def run_cohort(name: str, folder: str, extra: list[str], out: Path, n_jobs: int, models: str = MODELS) -> Path:
    "Run `survconvmixer reproduce` on one real cohort into `out`/`name`; the path of its table1.csv."
    from survconvmixer.cli import main
    d = SHARED / 'real' / folder
    args = ['reproduce', '--preset', 'paper', '--expression', str(d / 'expression.csv.gz'), '--clinical',
            str(d / 'clinical.csv'), '--time-unit', 'days', '--time-col', 'os_time_days', '--pathways',
            str(SHARED / 'pathways' / 'kegg_pathways_in_cancer_40.gmt'), '--name', name, '--models', models,
            '--horizons', '3', '--repeats', '2', '--folds', '5', '--no-interpret', '--n-jobs', str(n_jobs),
            '--out', str(out / name), *extra]
    code = main(args)
    if code != 0: raise SystemExit(f'{name}: survconvmixer reproduce exited with {code}')
    return out / name / 'table1.csv'


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--runs', default=str(ROOT / 'runs' / 'real'), help='run folders (resumable)')
    ap.add_argument('--n-jobs', type=int, default=2)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'real_cohorts.csv'))
    ap.add_argument('--models', default=MODELS, help='methods to compare (comma-separated)')
    ap.add_argument('--cohorts', default=','.join(COHORTS), help='cohorts to run (comma-separated)')
    ap.add_argument('--pooling', default=None, choices=('auto', 'average', 'slots', 'flatten'),
                    help="SurvConvMixer's pooling (default: the package's default)")
    a = ap.parse_args(argv)
    partial_run = a.pooling or a.models != MODELS or a.cohorts != ','.join(COHORTS)
    if partial_run and writes_default_out(ap, a):
        ap.error("--pooling, --models or --cohorts make another table than the methods page's: give it its own --out")
    unknown = sorted(set(a.cohorts.split(',')) - set(COHORTS))
    if unknown: ap.error(f"unknown cohort(s) {unknown}; choose from {', '.join(COHORTS)}")
    if not SHARED.exists():
        print(f'{SHARED} is not there: this script needs the shared data folder beside the clone', file=sys.stderr)
        return 2
    import pandas as pd
    if a.pooling: use_pooling(a.pooling)
    runs = Path(a.runs) / a.pooling if a.pooling else Path(a.runs)     # each network its own resumable folders
    tables = [pd.read_csv(run_cohort(n, *COHORTS[n], runs, a.n_jobs, a.models)).assign(cohort=n)
              for n in a.cohorts.split(',')]
    table = pd.concat(tables, ignore_index=True)
    if a.pooling: table['pooling'] = table.method.map({'SurvConvMixer': a.pooling})
    table.to_csv(a.out, index=False)
    print(table[table.validation == 'IV'][['cohort', 'method', 'estimate', 'low', 'high', 'difference', 'p_holm']]
          .round(3).to_string(index=False))
    return 0


if __name__ == '__main__':
    sys.exit(main())
