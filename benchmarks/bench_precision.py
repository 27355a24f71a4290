#!/usr/bin/env python
"""Does `precision='bfloat16_pointwise'` change SurvConvMixer's AUC? Paired cross-validation on the demo cohorts.

Runs the validation engine on the quick preset's demo data (or bigger grids) with three SurvConvMixer variants on
the same folds and seeds:

  float32              the estimator's default;
  bfloat16_pointwise   the same, with the 1x1 pointwise convolutions multiplying in bfloat16;
  float32, seed + 1    the default with another random initialisation and batch order: the noise floor, i.e. how
                       much the AUC moves when nothing but the seed changes.

It prints, per problem and over all folds, the paired differences in IV and EV AUC (mean, 95 % confidence interval,
largest |difference|, Wilcoxon signed-rank p) for bfloat16 vs float32 and for the seed change, and the summed fit
times. bfloat16 "holds accuracy" here when its differences are centred on zero and no larger than the seed's.
A benchmark, not a test: it asserts nothing.

    python benchmarks/bench_precision.py                 # 3 problems x 2 x 5 folds x 3 variants (~10 min on 2 cores)
    python benchmarks/bench_precision.py --repeats 1 --splits 3
"""
from __future__ import annotations
import argparse, os, sys, time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def survconvmixer(pathways, random_state: int = 0, precision: str = 'float32', seed_offset: int = 0,
                  epochs: int | None = None):
    "The quick preset's SurvConvMixer (full width, early stopping) with a precision and a shifted seed."
    from survconvmixer.model import SurvConvMixerClassifier
    return SurvConvMixerClassifier(pathways=pathways, precision=precision, random_state=random_state + seed_offset,
                                   epochs=epochs)


def paired(a, b) -> dict:
    "Mean, 95 % t interval, largest |difference| and Wilcoxon p of the paired differences b - a."
    import numpy as np
    from scipy import stats
    d = np.asarray(b, float) - np.asarray(a, float)
    d = d[~np.isnan(d)]
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
    p = stats.wilcoxon(d).pvalue if len(d) > 1 and np.any(d != 0) else 1.0
    return {'n': len(d), 'mean': d.mean(), 'low': d.mean() - half, 'high': d.mean() + half,
            'max_abs': np.abs(d).max(), 'sd': d.std(ddof=1) if len(d) > 1 else np.nan, 'wilcoxon_p': p}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--splits', type=int, default=5)
    ap.add_argument('--n-train', type=int, default=2200)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--epochs', type=int, help="epoch cap of each fit (default: the estimator's, with early stopping)")
    ap.add_argument('--out', help='keep folds.csv here (a rerun resumes)')
    args = ap.parse_args(argv)
    import numpy as np
    import pandas as pd
    from survconvmixer.demo import simulate_demo
    from survconvmixer.validation import make_problems, run_validation
    demo = simulate_demo(n_train=args.n_train, n_external=170, seed=0)
    problems = make_problems(demo.train, demo.external, {'short': 1.0, 'mid': 3.0, 'long': 5.0}, prefix='demo')
    scm = partial(survconvmixer, demo.pathways, epochs=args.epochs)
    variants = {'float32': scm, 'bfloat16_pointwise': partial(scm, precision='bfloat16_pointwise'),
                'float32, seed + 1': partial(scm, seed_offset=1)}
    start = time.perf_counter()
    folds = run_validation(problems, variants, n_repeats=args.repeats, n_splits=args.splits, n_jobs=args.jobs,
                           out_dir=args.out)
    print(f"{len(folds)} fits in {time.perf_counter() - start:.0f} s ({args.jobs} workers)\n")
    wide = folds.pivot_table(index=['problem', 'repeat', 'fold'], columns='method', values=['iv_auc', 'ev_auc', 'seconds'])
    print("Mean AUC per variant (IV = held-out folds of the training cohort, EV = the external cohort):")
    print(folds.groupby(['problem', 'method'], sort=False)[['iv_auc', 'ev_auc']].mean().round(4).to_string(), '\n')
    rows = []
    for problem, part in list(wide.groupby(level='problem')) + [('all problems', wide)]:
        for metric in ('iv_auc', 'ev_auc'):
            for label, variant in (('bfloat16 - float32', 'bfloat16_pointwise'), ('seed + 1 - seed', 'float32, seed + 1')):
                rows.append({'problem': problem, 'metric': metric.split('_')[0].upper(), 'comparison': label,
                             **paired(part[(metric, 'float32')], part[(metric, variant)])})
    table = pd.DataFrame(rows)
    print("Paired differences in AUC, fold by fold (95 % CI of the mean difference; Wilcoxon signed-rank p):")
    with pd.option_context('display.width', 200):
        print(table.round({'mean': 4, 'low': 4, 'high': 4, 'max_abs': 4, 'sd': 4, 'wilcoxon_p': 3}).to_string(index=False))
    seconds = folds.groupby('method')['seconds'].sum()
    print(f"\nSummed fit seconds: " + ', '.join(f"{m} {s:.0f} s" for m, s in seconds.items())
          + f"; float32 / bfloat16_pointwise = {seconds['float32'] / seconds['bfloat16_pointwise']:.2f}x")
    overall = table[table.problem == 'all problems'].set_index(['metric', 'comparison'])
    for metric in ('IV', 'EV'):
        bf, sd = overall.loc[(metric, 'bfloat16 - float32')], overall.loc[(metric, 'seed + 1 - seed')]
        print(f"{metric}: bfloat16 moves a fold's AUC by {bf['sd']:.4f} (sd of the differences), a new seed by "
              f"{sd['sd']:.4f}; mean shift {bf['mean']:+.4f} [{bf['low']:+.4f}, {bf['high']:+.4f}]")


if __name__ == '__main__':
    main()
