"""The random survival forest grown on the original times against the package's fit (censored times moved down to
the previous event time, `baselines.censored_at_event_times`): the same forest, bit for bit, in less time (issue 16).

    python benchmarks/bench_forest.py                      # paper settings: 200 trees, leaves of 10, one demo fold
    python benchmarks/bench_forest.py --n-estimators 40    # the same ratio, sooner (the cost is per tree)

On a training fold of the paper preset's demo (5-fold CV of 2,200 patients, the 3-year problem), one process:
scikit-survival's `RandomSurvivalForest` on the fold's times as they are, then on the moved times, interleaved over
`--rounds` rounds (single-threaded, as in the validation grid); per round the seconds of each and the ratio
original / moved, and their median; the distinct times each forest tracks; and a check that the two forests give
the same risk scores and survival probabilities at 1, 3 and 5 years on the held-out patients (largest difference,
0 = identical).
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
    warnings.simplefilter('ignore')
    import numpy as np
    from sksurv.ensemble import RandomSurvivalForest
    from survconvmixer.baselines import censored_at_event_times
    from survconvmixer.checks import survival_array
    from survconvmixer.demo import simulate_demo
    from survconvmixer.validation import fold_tasks, make_problems
    demo = simulate_demo(n_train=args.n_train, n_external=20, seed=0)
    problem = make_problems(demo.train, None, {'mid': 3.0}, prefix='demo')[0]
    task = next(t for t in fold_tasks([problem], ['x'], 1, 5) if t.fold == 0)
    genes = demo.pathways.genes
    train, test = np.asarray(task.train_index), np.asarray(task.test_index)
    X, Xt = problem.X_train[genes].to_numpy()[train], problem.X_train[genes].to_numpy()[test]
    surv = problem.survival_train.iloc[train]
    event, years = surv['event'].to_numpy(bool), surv['time'].to_numpy(float)
    variants = {'original': years, 'moved': censored_at_event_times(event, years)}
    print(f'# Random survival forest, {args.n_estimators} trees, leaves of {args.min_samples_leaf}, one thread: '
          f'{len(train)} training patients ({event.sum()} events), {X.shape[1]} pathway genes')
    seconds = {k: [] for k in variants}
    forests = {}
    for r in range(args.rounds):
        for name, times in variants.items():
            start = time.perf_counter()
            forests[name] = RandomSurvivalForest(n_estimators=args.n_estimators, min_samples_leaf=args.min_samples_leaf,
                                                 max_features='sqrt', n_jobs=1, random_state=r).fit(
                X, survival_array(event, times))
            seconds[name].append(time.perf_counter() - start)
        print(f'round {r + 1}: original {seconds["original"][-1]:7.2f} s   moved {seconds["moved"][-1]:7.2f} s   '
              f'original / moved {seconds["original"][-1] / seconds["moved"][-1]:.2f}x')
    ratios = [o / m for o, m in zip(seconds['original'], seconds['moved'])]
    print(f'original / moved, per interleaved round: {", ".join(f"{x:.2f}" for x in ratios)}; '
          f'median {float(np.median(ratios)):.2f}x')
    for name, forest in forests.items():
        print(f'{name:<9s} distinct times tracked: {len(forest.unique_times_)}')
    a, b = forests['original'], forests['moved']
    diff = float(np.abs(a.predict(Xt) - b.predict(Xt)).max())
    for h in (1.0, 3.0, 5.0):
        curves = [f.predict_survival_function(Xt, return_array=True) for f in (a, b)]
        at = [np.searchsorted(f.unique_times_, h, side='right') - 1 for f in (a, b)]
        diff = max(diff, float(np.abs(curves[0][:, at[0]] - curves[1][:, at[1]]).max()))
    print(f'largest difference in risk scores and S(1, 3, 5 years) over {len(test)} held-out patients: {diff:.1e}')


if __name__ == '__main__':
    main()
