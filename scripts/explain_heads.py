#!/usr/bin/env python
"""Which per-patient map suits the flattened head? The deploy page's `explain` example over demo seeds (issue 19)

`explain` gives every new patient a map of pathways (one model, no held-out folds, no test across patients), so a
reader looks at the top of each patient's map. This script repeats the deploy page's example with both heads and
scores three maps of the 100 new patients:

- the deploy page's setup: `simulate_demo(n_train=600, n_external=170, n_background_genes=50, seed=s)`, the first
  500 patients train a 3-year model with `train_model` (its recipe, seed 0), the other 100 are the new patients;
- maps: the paper's Grad-CAM (the gradient averaged over the slots), HiResCAM on the same last block (each slot's
  own gradient: behind a flattened head each slot's share of the logit), and the 'embedding' design (patch
  embedding, HiResCAM, the new patients' mean as baseline);
- per seed, head and map: the share of patients whose top pathway is planted, the pathway most often on top and
  its share, the ranks of the planted pathways in the mean of the per-patient maps (each scaled to its max), and
  how many planted pathways that mean ranks among its top as many as are planted (`planted_in_top4`: four on the
  demo).

Rows go to `nbs/evidence/explain_heads.csv`, which the training notebook (04a) tabulates.

    python scripts/explain_heads.py                 # seeds 0-2, about 6 minutes a seed on 2 cores
"""
from __future__ import annotations
import argparse, os, sys, tempfile, time, warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import seed_list  # noqa: E402 (scripts/_probe.py)

HEADS = ('average', 'flatten')
MAPS = {  # name -> grad_cam arguments
    'paper Grad-CAM': dict(method='gradcam'),
    'HiResCAM': dict(method='hirescam'),
    'embedding': dict(layer='embedding_bn', method='hirescam', baseline='mean'),
}


def score_maps(maps: 'pd.DataFrame', planted: set) -> dict:
    "How a patients x pathways map table ranks the planted pathways: per patient (the top) and on average."
    import numpy as np
    top = maps.idxmax(axis=1)
    counts = top.value_counts(normalize=True)
    mean = maps.div(maps.max(axis=1).replace(0, np.nan), axis=0).mean().sort_values(ascending=False)
    ranks = sorted(int(mean.index.get_loc(p)) + 1 for p in planted)
    return {'top_is_planted': round(float(top.isin(planted).mean()), 3), 'most_common_top': counts.index[0],
            'most_common_share': round(float(counts.iloc[0]), 3), 'planted_ranks': ' '.join(map(str, ranks)),
            'planted_in_top4': sum(r <= len(planted) for r in ranks)}


def run_seed(seed: int, folder: Path) -> list[dict]:
    "Both heads on the deploy page's example of demo seed `seed`: one row per head and map."
    from survconvmixer.demo import simulate_demo
    from survconvmixer.deploy import train_model
    from survconvmixer.interpretation import grad_cam, pathway_cam_table
    demo = simulate_demo(n_train=600, n_external=170, n_background_genes=50, seed=seed)
    clinic, later = demo.train.subset(demo.train.samples[:500]), demo.train.subset(demo.train.samples[500:])
    planted = set(demo.truth.planted_pathways)
    rows = []
    for pooling in HEADS:
        start = time.perf_counter()
        model = train_model(clinic, demo.pathways, {'mid': 3.0}, folder / f'{seed}-{pooling}',
                            params=dict(pooling=pooling), progress=False)
        est = model.estimators['mid']
        scaled = model.scaler().transform(later.expression[model.genes])
        for name, kwargs in MAPS.items():
            maps = pathway_cam_table(grad_cam(est, scaled, **kwargs), est.layout_, index=scaled.index)
            rows.append({'seed': seed, 'head': pooling, 'cross_fitted_auc': round(model.training['cross_fitted_auc']['mid'], 4),
                         'maps': name, **score_maps(maps, planted)})
        print(f'seed {seed} {pooling:8s} AUC {rows[-1]["cross_fitted_auc"]:.3f}  top is planted: ' +
              '  '.join(f"{r['maps']} {r['top_is_planted']:.2f}" for r in rows[-len(MAPS):]) +
              f'  ({time.perf_counter() - start:.0f} s)', flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--seeds', default='0,1,2', type=seed_list, help='demo seeds, comma-separated')
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'explain_heads.csv'))
    a = ap.parse_args(argv)
    warnings.simplefilter('ignore')
    import pandas as pd
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            rows += run_seed(seed, Path(tmp))
            pd.DataFrame(rows).to_csv(a.out, index=False)      # kept after every seed: nothing lost if stopped
    table = pd.DataFrame(rows).groupby(['head', 'maps'], sort=False)[['top_is_planted', 'planted_in_top4']].mean()
    print(table.round(2).to_string())
    return 0


if __name__ == '__main__':
    sys.exit(main())
