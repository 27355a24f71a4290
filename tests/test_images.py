"""Pathway images: property tests of the layout and transforms (hypothesis), pictures, the KEGG 40 layout."""
import math

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from survconvmixer.images import PathwayImageLayout, plot_class_mean_images, plot_sample_image, short_pathway_name
from survconvmixer.pathways import Pathway, PathwayCollection, read_gmt

GENE_POOL = [f'G{i}' for i in range(40)]
SETTINGS = settings(max_examples=50, deadline=None)


@st.composite
def collections(draw, max_pathways: int = 12, max_len: int = 30):
    "Random collections: 1..max_pathways pathways of 1..max_len distinct genes from a small pool (so they overlap)."
    n = draw(st.integers(1, max_pathways))
    genes = [draw(st.lists(st.sampled_from(GENE_POOL), min_size=1, max_size=max_len, unique=True)) for _ in range(n)]
    return PathwayCollection([Pathway(f'P{i}', tuple(g)) for i, g in enumerate(genes)])


@st.composite
def collection_and_data(draw):
    "A collection and an expression table over its genes plus unrelated ones, columns in random order."
    pc = draw(collections())
    n_samples = draw(st.integers(1, 4))
    columns = pc.genes + ['OTHER1', 'OTHER2']
    values = draw(arrays(np.float32, (n_samples, len(columns)),
                         elements=st.floats(-1e3, 1e3, allow_nan=False, width=32).filter(lambda v: v != 0)))
    order = draw(st.permutations(range(len(columns))))
    X = pd.DataFrame(values, columns=columns, index=[f's{i}' for i in range(n_samples)])
    return pc, X.iloc[:, list(order)]


@SETTINGS
@given(collections())
def test_layout_dimensions(pc):
    lay = PathwayImageLayout.from_collection(pc)
    p, g = lay.patch_side, lay.grid_side
    assert p == math.ceil(math.sqrt(pc.longest)) and (p - 1) ** 2 < pc.longest <= p ** 2
    assert g == math.ceil(math.sqrt(len(pc))) and (g - 1) ** 2 < len(pc) <= g ** 2
    assert lay.image_shape == (p * g, p * g, 1) and lay.sequence_shape == (g * g * p * p, 1)
    assert lay.blank_slots.shape == (g, g)
    assert lay.blank_slots.sum() == g * g - len(pc)
    assert not lay.blank_slots.ravel()[:len(pc)].any()  # pathways fill the grid row by row
    assert len(lay.pixel_table) == sum(len(pw) for pw in pc)
    assert not lay.pixel_table[['row', 'col']].duplicated().any()
    assert lay.genes == pc.genes


@SETTINGS
@given(collection_and_data())
def test_every_value_lands_where_pixel_table_says(data):
    pc, X = data
    lay = PathwayImageLayout.from_collection(pc)
    images = lay.transform(X)
    assert images.shape == (len(X),) + lay.image_shape and images.dtype == np.float32
    t = lay.pixel_table
    expected = X[t.gene].to_numpy()                          # (n, pixels): the gene's value for each table row
    assert np.array_equal(images[:, t.row, t.col, 0], expected)
    # each table row sits in its pathway's slot, genes row by row in pathway order
    for _, r in t.iterrows():
        slot_r, slot_c = lay.slot_of(r.pathway)
        assert (r.row, r.col) == (slot_r * lay.patch_side + r.position // lay.patch_side,
                                  slot_c * lay.patch_side + r.position % lay.patch_side)
        assert pc[r.pathway].genes[r.position] == r.gene


@SETTINGS
@given(collection_and_data())
def test_padding_and_blank_slots_stay_zero(data):
    pc, X = data
    lay = PathwayImageLayout.from_collection(pc)
    images = lay.transform(X)[..., 0]
    used = np.zeros(images.shape[1:], dtype=bool)
    used[lay.pixel_table.row, lay.pixel_table.col] = True
    assert (images[:, ~used] == 0).all()
    assert (images[:, used] != 0).all()  # values are drawn non-zero: every gene pixel is filled
    p = lay.patch_side
    for r, c in zip(*np.nonzero(lay.blank_slots)):
        assert not used[r * p:(r + 1) * p, c * p:(c + 1) * p].any()


@SETTINGS
@given(collection_and_data())
def test_transform_1d_agrees_with_transform_patch_by_patch(data):
    pc, X = data
    lay = PathwayImageLayout.from_collection(pc)
    images, seqs = lay.transform(X), lay.transform_1d(X)
    n, p, g = len(X), lay.patch_side, lay.grid_side
    assert seqs.shape == (n,) + lay.sequence_shape
    per_slot = seqs[..., 0].reshape(n, g * g, p * p)
    patches = lay.patch_values(images)
    assert patches.shape == (n, len(pc), p * p)
    assert np.array_equal(per_slot[:, :len(pc)], patches)
    assert (per_slot[:, len(pc):] == 0).all()                   # blank slots
    for i, pw in enumerate(pc):                                  # a pathway's genes, in order, then padding
        assert np.array_equal(patches[:, i, :len(pw)], X[list(pw.genes)].to_numpy())
        assert (patches[:, i, len(pw):] == 0).all()
        r, c = lay.slot_of(pw.name)
        assert np.array_equal(images[:, r * p:(r + 1) * p, c * p:(c + 1) * p, 0].reshape(n, -1), patches[:, i])


@SETTINGS
@given(collection_and_data(), st.randoms())
def test_column_order_does_not_matter(data, rnd):
    pc, X = data
    lay = PathwayImageLayout.from_collection(pc)
    cols = list(X.columns); rnd.shuffle(cols)
    assert np.array_equal(lay.transform(X[cols]), lay.transform(X))
    assert np.array_equal(lay.transform_1d(X[cols]), lay.transform_1d(X))
    assert np.array_equal(lay.transform(X[lay.genes].to_numpy()), lay.transform(X))  # array in `genes` order


@SETTINGS
@given(collection_and_data())
def test_pixel_to_gene_inverts_the_table(data):
    pc, X = data
    lay = PathwayImageLayout.from_collection(pc)
    image = lay.transform(X.iloc[:1])[0, ..., 0]
    for _, r in lay.pixel_table.sample(min(5, len(lay.pixel_table)), random_state=0).iterrows():
        pathway, gene = lay.pixel_to_gene(r.row, r.col)
        assert (pathway, gene) == (r.pathway, r.gene)
        assert image[r.row, r.col] == X.iloc[0][gene]


def test_bad_input_is_named():
    lay = PathwayImageLayout.from_collection(PathwayCollection.from_dict({'A': ['X', 'Y'], 'B': ['Y', 'Z']}))
    X = pd.DataFrame({'X': [1.0, 2.0], 'Y': [1.0, np.inf], 'Z': [0.5, 0.5]}, index=['a', 'b'])
    with pytest.raises(ValueError, match=r"rows \['b'\] columns \['Y'\]"):
        lay.transform(X)
    with pytest.raises(ValueError, match="harmonise"):
        lay.transform(X.drop(columns='Z'))
    with pytest.raises(ValueError, match=r"several columns.*\['X'\]"):
        lay.transform(pd.concat([X, X[['X']]], axis=1).fillna(0))
    with pytest.raises(ValueError, match='do not fit'):
        PathwayImageLayout.from_collection(PathwayCollection.from_dict({'A': ['X'], 'B': ['Y']}), grid_side=1)
    with pytest.raises(ValueError, match='longer than'):
        PathwayImageLayout.from_collection(PathwayCollection.from_dict({'A': ['X', 'Y']}), patch_side=1)


def test_kegg40_layout(shared_dir):
    pc = read_gmt(shared_dir / 'data/pathways/kegg_pathways_in_cancer_40.gmt')
    lay = PathwayImageLayout.from_collection(pc)
    assert (lay.patch_side, lay.grid_side, lay.image_shape) == (7, 7, (49, 49, 1))
    assert lay.blank_slots.sum() == 9
    expected = np.zeros((7, 7), dtype=bool); expected[5, 5:] = True; expected[6] = True
    assert np.array_equal(lay.blank_slots, expected)
    assert len(lay.pixel_table) == sum(len(p) for p in pc) == 572
    assert lay.pixel_to_gene(0, 0) == ('EGF-EGFR-RAS-ERK signaling pathway', 'EGF')


# ---------------------------------------------------------------- pictures
@pytest.fixture
def toy():
    lay = PathwayImageLayout.from_collection(PathwayCollection.from_dict({'P1': list('ABCDE'), 'P2': list('CF'),
                                                                         'P3': ['G']}))
    X = pd.DataFrame(np.arange(1, 29, dtype=float).reshape(4, 7), columns=list('ABCDEFG'), index=list('wxyz'))
    yield lay, X
    plt.close('all')


def test_plot_sample_image(toy):
    lay, X = toy
    fig = plot_sample_image(lay, lay.transform(X)[1], title='x')
    ax = fig.axes[0]
    assert np.array_equal(ax.images[0].get_array(), lay.transform(X)[1, ..., 0])
    assert sorted(t.get_text() for t in ax.texts) == ['P1', 'P2', 'P3']
    assert len([p for p in ax.patches if p.get_hatch()]) == 1          # the one blank slot
    fig2 = plot_sample_image(lay, X.loc['x'], label_pathways='numbers', colorbar=False)
    assert np.array_equal(fig2.axes[0].images[0].get_array(), ax.images[0].get_array())
    assert sorted(t.get_text() for t in fig2.axes[0].texts) == ['1', '2', '3']
    assert fig2.axes[0].get_legend() is not None
    fig3, given_ax = plt.subplots()
    assert plot_sample_image(lay, lay.transform(X)[0], ax=given_ax, label_pathways=False) is fig3
    assert not given_ax.texts


def test_plot_class_mean_images(toy):
    lay, X = toy
    labels = pd.Series([1, 0, 1], index=['z', 'w', 'x'])               # 'y' unlabelled (censored): left out
    fig = plot_class_mean_images(lay, X, labels)
    images = lay.transform(X)[..., 0]
    mean0, mean1 = images[0], images[[1, 3]].mean(0)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), mean0)
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), mean1)
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), mean1 - mean0)
    lo, hi = fig.axes[2].images[0].get_clim()
    assert lo == -hi                                                    # diverging scale centred at zero
    with pytest.raises(ValueError, match=r"not rows of the expression table: \['q'\]"):
        plot_class_mean_images(lay, X, pd.Series([0, 1], index=['w', 'q']))
    with pytest.raises(ValueError, match='exactly two classes'):
        plot_class_mean_images(lay, X, pd.Series([1, 1], index=['w', 'x']))


def test_short_pathway_name():
    assert short_pathway_name('HGF-MET-PI3K signaling pathway') == 'HGF-MET-PI3K'
    assert short_pathway_name('Intrinsic apoptotic pathway') == 'Intrinsic apoptotic'
    assert len(short_pathway_name('x' * 50, 12)) == 12
