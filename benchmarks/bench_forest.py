"""scikit-survival's random survival forest grown on the original times against the package's
`RandomSurvivalForestRisk`, which moves censored times down to the previous event time first
(`baselines.censored_at_event_times`): the same forest, bit for bit, in less time (issue 16).

    python benchmarks/bench_forest.py                      # paper settings: 200 trees, leaves of 10, one demo fold
    python benchmarks/bench_forest.py --n-estimators 40    # the same ratio, sooner (the cost is per tree)

On a training fold of the paper preset's demo (5-fold CV of 2,200 patients, the 3-year problem), one process:
scikit-survival's `RandomSurvivalForest` on the fold's pathway genes and times as they are, then the package's
`RandomSurvivalForestRisk` (the same settings and seed) on the same rows, interleaved over `--rounds` rounds
(single-threaded, as in the validation grid); per round the seconds of each and the ratio original / moved, and
their median; the distinct times each forest tracks; and a check that the two forests give the same risk scores
and survival probabilities at 1, 3 and 5 years on the held-out patients (largest difference, 0 = identical).
"""
import argparse, os, time, warnings

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n-train', type=int, default=2200)
    ap.add_argument('--n-estimators', type=int, default=200)
    ap.add_argument('--min-samples-leaf', type=int, default=10)
    ap.add_argument('--rounds', type=int, default=3)
    args = ap.parse_args()
    for name in ('n_train', 'n_estimators', 'min_samples_leaf', 'rounds'):
        if getattr(args, name) < 1: ap.error(f"--{name.replace('_', '-')} must be at least 1, not {getattr(args, name)}")
    warnings.simplefilter('ignore')
    import numpy as np
    from sksurv.ensemble import RandomSurvivalForest
    from survconvmixer.baselines import RandomSurvivalForestRisk
    from survconvmixer.checks import survival_array
    from survconvmixer.demo import simulate_demo
    from survconvmixer.validation import fold_tasks, make_problems
    demo = simulate_demo(n_train=args.n_train, n_external=20, seed=0)
    problem = make_problems(demo.train, None, {'mid': 3.0}, prefix='demo')[0]
    task = next(t for t in fold_tasks([problem], ['x'], 1, 5) if t.fold == 0)
    genes = demo.pathways.genes
    train, test = np.asarray(task.train_index), np.asarray(task.test_index)
    X, Xt = problem.X_train.iloc[train], problem.X_train.iloc[test]
    surv = problem.survival_train.iloc[train]
    y = survival_array(surv['event'].to_numpy(bool), surv['time'].to_numpy(float))
    settings = dict(n_estimators=args.n_estimators, min_samples_leaf=args.min_samples_leaf)
    fits = {'original': lambda seed: RandomSurvivalForest(**settings, max_features='sqrt', n_jobs=1,
                                                          random_state=seed).fit(X[genes].to_numpy(), y),
            'moved': lambda seed: RandomSurvivalForestRisk(demo.pathways, **settings, n_jobs=1,
                                                           random_state=seed).fit(X, y)}
    print(f'# Random survival forest, {args.n_estimators} trees, leaves of {args.min_samples_leaf}, one thread: '
          f'{len(train)} training patients ({y["event"].sum()} events), {len(genes)} pathway genes')
    seconds = {k: [] for k in fits}
    forests = {}
    for r in range(args.rounds):
        for name, fit in fits.items():
            start = time.perf_counter()
            forests[name] = fit(r)
            seconds[name].append(time.perf_counter() - start)
        print(f'round {r + 1}: original {seconds["original"][-1]:7.2f} s   moved {seconds["moved"][-1]:7.2f} s   '
              f'original / moved {seconds["original"][-1] / seconds["moved"][-1]:.2f}x')
    ratios = [o / m for o, m in zip(seconds['original'], seconds['moved'])]
    print(f'original / moved, per interleaved round: {", ".join(f"{x:.2f}" for x in ratios)}; '
          f'median {float(np.median(ratios)):.2f}x')
    direct, ours = forests['original'], forests['moved']
    print(f'{"original":<9s} distinct times tracked: {len(direct.unique_times_)}')
    print(f'{"moved":<9s} distinct times tracked: {len(ours.model_.unique_times_)}')
    values = Xt[genes].to_numpy()
    diff = float(np.abs(direct.predict(values) - ours.predict(Xt)).max())
    horizons = [1.0, 3.0, 5.0]
    at = np.searchsorted(direct.unique_times_, horizons, side='right') - 1
    curves = direct.predict_survival_function(values, return_array=True)
    expected = np.where(at >= 0, curves[:, np.maximum(at, 0)], 1.0)
    diff = max(diff, float(np.abs(ours.predict_survival(Xt, horizons).to_numpy() - expected).max()))
    print(f'largest difference in risk scores and S(1, 3, 5 years) over {len(test)} held-out patients: {diff:.1e}')


if __name__ == '__main__':
    main()
