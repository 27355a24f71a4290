#!/usr/bin/env python
"""Do the key-pathway maps still find the planted pathways when SurvConvMixer has the flattened head? (issue 19)

The flattened head (`pooling='flatten'`) lifts SurvConvMixer at 300 patients (`recipe_head.py`), but on the
interpretation page's example a single run of it found fewer planted pathways with the paper's Grad-CAM. This
script repeats that example over several demo seeds with both heads, on the same folds, and scores every map
design of the interpretation page plus HiResCAM on the last block (gradient x activation per slot, not averaged
over the slots as Grad-CAM averages it; for a flattened head each slot's share of the logit, kept where positive):

- the interpretation page's setup: `simulate_demo(n_train=1500, n_background_genes=20, seed=s)`, 3-year labels,
  min-max scaled, 3-fold stratified CV (`random_state=s`), SurvConvMixer width 64, learning rate 3e-4, 30 epochs;
- maps per model, normalised per model and averaged; Wilcoxon + Bonferroni over the 40 pathways at 0.05;
- per seed, head and design: planted pathways recovered (of 4), null pathways called key (of 36), and the
  folds' mean held-out AUC.

Rows go to `nbs/evidence/recipe_head_maps.csv`, which the training notebook (04a) tabulates.

    python scripts/recipe_head_maps.py                 # seeds 0-4, about 10 minutes on 2 cores
"""
from __future__ import annotations
import argparse, os, sys, time, warnings
from typing import NamedTuple
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'scripts')]
from _probe import seed_list  # noqa: E402 (scripts/_probe.py)

HEADS = ('average', 'flatten')
DESIGNS = {  # name -> (cams_per_model arguments, maps of held-out samples only)
    'paper Grad-CAM, all samples': (dict(preset='paper', method='gradcam'), False),
    'paper Grad-CAM, held-out': (dict(preset='paper', method='gradcam'), True),
    'embedding, held-out': (dict(preset='embedding'), True),
    'HiResCAM last block, held-out': (dict(preset=None, layer='feature_map', method='hirescam', baseline=None), True),
}


class Example(NamedTuple):
    "The interpretation page's example for one demo seed: scaled labelled patients, their labels, the folds."
    pathways: object
    X: 'pd.DataFrame'
    labels: 'pd.Series'
    splits: list
    planted: list

    @property
    def held_out(self) -> list:
        return [self.X.index[te] for _, te in self.splits]


def make_example(seed: int, n_train: int, folds: int = 3) -> Example:
    "Simulate the demo of `seed`, label it at 3 years, min-max scale it and cut its stratified folds (once per seed)."
    from sklearn.model_selection import StratifiedKFold
    from survconvmixer.data import minmax_scale_genes
    from survconvmixer.demo import simulate_demo
    from survconvmixer.labelling import label_cohort
    demo = simulate_demo(n_train=n_train, n_external=100, n_background_genes=20, seed=seed)
    labels = label_cohort(demo.train, 3).labels
    X = minmax_scale_genes(demo.train.expression).loc[labels.index]
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, labels))
    return Example(demo.pathways, X, labels, splits, demo.truth.planted_pathways)


def fit_folds(ex: Example, pooling: str) -> tuple[list, float]:
    "One SurvConvMixer with `pooling` per training fold of the example: (models, mean held-out AUC)."
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from survconvmixer.model import SurvConvMixerClassifier
    models = [SurvConvMixerClassifier(ex.pathways, width=64, learning_rate=3e-4, epochs=30, pooling=pooling,
                                      random_state=k).fit(ex.X.iloc[tr], ex.labels.iloc[tr])
              for k, (tr, _) in enumerate(ex.splits)]
    aucs = [roc_auc_score(ex.labels.iloc[te], m.predict_proba(ex.X.iloc[te])[:, 1]) for m, (_, te) in zip(models, ex.splits)]
    return models, float(np.mean(aucs))


def score_designs(models: list, ex: Example) -> list[dict]:
    "Recovery of the example's planted pathways by every map design."
    from survconvmixer.interpretation import aggregate_cams, cams_per_model, recovery_against_truth, wilcoxon_pathways
    rows = []
    for design, (kwargs, held) in DESIGNS.items():
        tables = cams_per_model(models, ex.X, held_out=ex.held_out if held else None, **kwargs)
        rec = recovery_against_truth(wilcoxon_pathways(aggregate_cams(tables), ex.labels), ex.planted)
        rows.append({'maps': design, 'recovered': rec['n_recovered'], 'n_planted': rec['n_planted'],
                     'false_positives': rec['n_false_positives'], 'n_unplanted': rec['n_unplanted']})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--seeds', default='0,1,2,3,4', type=seed_list, help='demo (and fold) seeds, comma-separated')
    ap.add_argument('--n-train', type=int, default=1500)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / 'recipe_head_maps.csv'))
    a = ap.parse_args(argv)
    warnings.simplefilter('ignore')
    import pandas as pd
    rows = []
    for seed in a.seeds:
        ex = make_example(seed, a.n_train)                    # the same patients and folds for both heads
        for pooling in HEADS:
            start = time.perf_counter()
            models, auc = fit_folds(ex, pooling)
            for row in score_designs(models, ex):
                rows.append({'seed': seed, 'head': pooling, 'held_out_auc': round(auc, 4), **row})
            print(f'seed {seed} {pooling:8s} AUC {auc:.3f}  ' + '  '.join(
                f"{r['recovered']}/{r['false_positives']}" for r in rows[-len(DESIGNS):]) +
                f'  ({time.perf_counter() - start:.0f} s)', flush=True)
            pd.DataFrame(rows).to_csv(a.out, index=False)      # kept after every head: nothing lost if stopped
    table = pd.DataFrame(rows).groupby(['head', 'maps'], sort=False)[['recovered', 'false_positives', 'held_out_auc']].mean()
    print(table.round(2).to_string())
    return 0


if __name__ == '__main__':
    sys.exit(main())
