"""Tests of `survconvmixer.data`: the input checks of `make_cohort` (one test per row of the notebook's table),
the readers on real-format fixture files, `Cohort.summary`, and the real TCGA-LUAD cohort in ../shared."""
import gzip, re, shutil, sys, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from survconvmixer.data import (Cohort, CohortWarning, NAN_POLICIES, make_cohort, parse_os_event, parse_os_time,
                                read_table_cohort, read_cbioportal, read_cbioportal_table, read_xena,
                                parse_series_matrix, read_geo_series_matrix, map_probes, from_anndata,
                                guess_separator, tcga_patient_id, tcga_sample_type, harmonise_genes)

FIX = Path(__file__).parent / 'fixtures' / 'data'
KW = dict(time_unit='days', name='toy', time_col='time', event_col='status')


@pytest.fixture
def expr():
    return pd.DataFrame({'TP53': [1.5, -0.2, 3.1, 2.2], 'EGFR': [4., 5., 6., 7.], 'KRAS': [0.1, 0.2, 0.3, 0.4]},
                        index=['s1', 's2', 's3', 's4'])

@pytest.fixture
def clin():
    return pd.DataFrame({'time': [100, 400, 2000, 50], 'status': ['1:DECEASED', '0:LIVING', 'Dead', 'alive'],
                         'age': [61, 70, 55, 48]}, index=['s1', 's2', 's3', 's4'])

def no_warning(f):
    "Run `f` and fail if it raises any CohortWarning."
    with warnings.catch_warnings():
        warnings.simplefilter('error', CohortWarning)
        return f()

def run_warned(f, *texts):
    "Run `f`; check that each of `texts` is in some CohortWarning it raised; return its result."
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        res = f()
    msgs = [str(m.message) for m in w if issubclass(m.category, CohortWarning)]
    for t in texts: assert any(t in m for m in msgs), f"no warning containing {t!r}; got {msgs}"
    return res

def raises(exc, text):
    return pytest.raises(exc, match=re.escape(text))

def warns(text):
    return pytest.warns(CohortWarning, match=re.escape(text))


# ---------------------------------------------------------------- make_cohort: clean input
def test_clean_input_builds_cohort_without_warnings(expr, clin):
    c = no_warning(lambda: make_cohort(expr, clin, **KW))
    assert isinstance(c, Cohort) and c.name == 'toy' and c.time_unit == 'days'
    assert c.samples.tolist() == ['s1', 's2', 's3', 's4']
    assert c.os_event.tolist() == [1, 0, 1, 0] and c.os_event.dtype.kind == 'i'
    assert c.os_time.tolist() == [100., 400., 2000., 50.]
    assert c.clinical.columns.tolist() == ['os_time', 'os_event', 'age']
    assert c.expression.loc['s2', 'TP53'] == -0.2  # negative (log-scale) values pass
    pd.testing.assert_frame_equal(c.expression, expr.rename_axis('sample_id'), check_dtype=False)

def test_ids_become_strings_and_order_follows_expression(expr, clin):
    e = expr.set_axis([1, 2, 3, 4], axis=0)
    cl = clin.set_axis([4, 3, 2, 1], axis=0)  # same ids, other order
    c = make_cohort(e, cl, **KW)
    assert c.samples.tolist() == ['1', '2', '3', '4']
    assert c.os_time.tolist() == [50., 2000., 400., 100.]


# ---------------------------------------------------------------- make_cohort: each row of the table
def test_unknown_time_unit_and_nan_policy(expr, clin):
    with raises(ValueError, "unknown time unit 'weeks'"): make_cohort(expr, clin, 'weeks', time_col='time', event_col='status')
    with raises(ValueError, "unknown nan_policy 'median'"): make_cohort(expr, clin, nan_policy='median', **KW)

def test_not_dataframes(expr, clin):
    with raises(TypeError, "expression must be a pandas DataFrame"): make_cohort(expr.to_numpy(), clin, **KW)

def test_missing_survival_columns_are_named(expr, clin):
    with raises(ValueError, "lacks column(s) ['os_time', 'os_event']; it has ['time', 'status', 'age']"):
        make_cohort(expr, clin, 'days')
    with raises(ValueError, "lacks column(s) ['OS']"): make_cohort(expr, clin, 'days', time_col='time', event_col='OS')

@pytest.mark.parametrize('table', ['expression', 'clinical'])
def test_duplicated_sample_ids_error(expr, clin, table):
    if table == 'expression': expr = expr.rename(index={'s2': 's1'})
    else: clin = clin.rename(index={'s4': 's3'})
    dup = 's1' if table == 'expression' else 's3'
    with raises(ValueError, f"duplicated sample id(s) in the {table} table: '{dup}'"): make_cohort(expr, clin, **KW)

def test_samples_only_in_expression_are_dropped_with_warning(expr, clin):
    c = run_warned(lambda: make_cohort(expr.rename(index={'s4': 'x9'}), clin, **KW),
                   "1 expression sample(s) have no clinical row and were dropped: 'x9'",
                   "1 clinical sample(s) have no expression and were dropped: 's4'")
    assert c.samples.tolist() == ['s1', 's2', 's3']

def test_samples_only_in_clinical_are_dropped_with_warning(expr, clin):
    extra = pd.concat([clin] + [clin.loc[['s1']].rename(index={'s1': f'c{i}'}) for i in range(7)])
    with warns("7 clinical sample(s) have no expression and were dropped: 'c0', 'c1', 'c2', 'c3', 'c4' (+2 more)"):
        c = make_cohort(expr, extra, **KW)
    assert len(c) == 4

def test_no_common_sample_errors_with_examples(expr, clin):
    with raises(ValueError, "no sample id is in both tables; expression ids look like 's1-01', 's2-01', 's3-01' (+1 more), "
                            "clinical ids like 's1', 's2', 's3' (+1 more)"):
        make_cohort(expr.rename(index=lambda s: s + '-01'), clin, **KW)

@pytest.mark.parametrize('missing', [np.nan, None, '', 'NA', '[Not Available]', ' na '])
def test_missing_time_is_dropped_with_warning(expr, clin, missing):
    clin = clin.astype({'time': object}); clin.loc['s2', 'time'] = missing
    with warns("1 sample(s) with missing OS time or event were dropped: 's2'"):
        c = make_cohort(expr, clin, **KW)
    assert c.samples.tolist() == ['s1', 's3', 's4']

def test_missing_event_is_dropped_with_warning(expr, clin):
    with warns("2 sample(s) with missing OS time or event were dropped: 's1', 's3'"):
        c = make_cohort(expr, clin.assign(status=[None, 1, '[Not Available]', 0]), **KW)
    assert c.samples.tolist() == ['s2', 's4']

def test_nonpositive_time_is_dropped_with_warning(expr, clin):
    with warns("2 sample(s) with OS time <= 0 were dropped: s1 (0), s2 (-3)"):
        c = make_cohort(expr, clin.assign(time=[0, -3, 2000, 50]), **KW)
    assert c.samples.tolist() == ['s3', 's4'] and (c.os_time > 0).all()

def test_text_time_errors(expr, clin):
    with raises(ValueError, "OS time is not a number for 1 sample(s): s2 ('34 months')"):
        make_cohort(expr, clin.assign(time=[100, '34 months', 2000, 50]), **KW)

@pytest.mark.parametrize('codes,expected', [
    ([0, 1, 0, 1], [0, 1, 0, 1]), ([0., 1., 1., 0.], [0, 1, 1, 0]), (['0', '1', '1.0', '0.0'], [0, 1, 1, 0]),
    ([True, False, np.True_, False], [1, 0, 1, 0]), (['1:DECEASED', '0:LIVING', '1:deceased', '0:Living'], [1, 0, 1, 0]),
    (['Dead', 'Alive', 'DEAD', 'alive'], [1, 0, 1, 0]), (['DECEASED', 'LIVING', 'deceased', ' Living '], [1, 0, 1, 0]),
    (['TRUE', 'false', 'True', 'FALSE'], [1, 0, 1, 0])])
def test_event_codes_accepted(expr, clin, codes, expected):
    c = no_warning(lambda: make_cohort(expr, clin.assign(status=codes), **KW))
    assert c.os_event.tolist() == expected

def test_event_codes_from_categorical_column(expr, clin):
    c = make_cohort(expr, clin.astype({'status': 'category'}), **KW)
    assert c.os_event.tolist() == [1, 0, 1, 0]

@pytest.mark.parametrize('codes,listing', [([1, 2, 0, 2], "'2' (2x)"), (['Dead', 'relapse', 'Alive', 'Dead'], "'relapse' (1x)"),
                                           ([1, 0, 'yes', -1], "'yes' (1x), '-1' (1x)")])
def test_unknown_event_codes_error(expr, clin, codes, listing):
    with raises(ValueError, f"unknown OS event code(s) {listing}"): make_cohort(expr, clin.assign(status=codes), **KW)

def test_no_sample_left_errors(expr, clin):
    with warns("4 sample(s) with OS time <= 0"), raises(ValueError, "no sample left with a usable overall survival"):
        make_cohort(expr, clin.assign(time=0), **KW)

@pytest.mark.parametrize('policy', NAN_POLICIES)
def test_text_in_expression_errors_whatever_the_policy(expr, clin, policy):
    bad = expr.astype(object); bad.loc['s3', 'EGFR'] = 'high'
    with raises(ValueError, "non-numeric values in 1 gene(s) [EGFR (1)] and 1 sample(s) ['s3'], e.g. s3/EGFR='high'"):
        make_cohort(bad, clin, nan_policy=policy, **KW)

def test_text_in_a_dropped_sample_does_not_matter(expr, clin):
    bad = pd.concat([expr.astype(object), pd.DataFrame([['a', 'b', 'c']], index=['Entrez_Gene_Id'], columns=expr.columns)])
    with warns("1 expression sample(s) have no clinical row and were dropped: 'Entrez_Gene_Id'"):
        c = make_cohort(bad, clin, **KW)
    assert c.expression.dtypes.eq(float).all()

@pytest.mark.parametrize('value', [np.inf, -np.inf])
def test_infinite_expression_errors(expr, clin, value):
    e = expr.copy(); e.loc['s1', 'KRAS'] = value
    with raises(ValueError, "infinite values in 1 gene(s) [KRAS (1)] and 1 sample(s) ['s1']"):
        make_cohort(e, clin, nan_policy='zero', **KW)

@pytest.fixture
def with_nan(expr):
    e = expr.copy(); e.loc['s2', 'TP53'] = np.nan; e.loc['s4', 'TP53'] = np.nan; e.loc['s4', 'KRAS'] = np.nan
    return e

def test_nan_error_policy_names_genes_and_samples(with_nan, clin):
    with raises(ValueError, "3 missing value(s) in 2 gene(s) [TP53 (2), KRAS (1)] and 2 sample(s) ['s2', 's4']"):
        make_cohort(with_nan, clin, **KW)

def test_nan_drop_genes(with_nan, clin):
    with warns("dropped 2 gene(s) with missing values: 'TP53', 'KRAS'"):
        c = make_cohort(with_nan, clin, nan_policy='drop_genes', **KW)
    assert c.genes.tolist() == ['EGFR']

def test_nan_drop_samples(with_nan, clin):
    with warns("dropped 2 sample(s) with missing expression values: 's2', 's4'"):
        c = make_cohort(with_nan, clin, nan_policy='drop_samples', **KW)
    assert c.samples.tolist() == ['s1', 's3'] and c.clinical.index.tolist() == ['s1', 's3']

def test_nan_zero(with_nan, clin):
    with warns("set 3 missing expression value(s) to 0 in 2 gene(s)"):
        c = make_cohort(with_nan, clin, nan_policy='zero', **KW)
    assert c.expression['TP53'].tolist() == [1.5, 0., 3.1, 0.] and c.expression.loc['s4', 'KRAS'] == 0.

def test_nan_gene_mean(with_nan, clin):
    with warns("set 3 missing expression value(s) to the gene's mean"):
        c = make_cohort(with_nan, clin, nan_policy='gene_mean', **KW)
    np.testing.assert_allclose(c.expression['TP53'], [1.5, 2.3, 3.1, 2.3])
    np.testing.assert_allclose(c.expression.loc['s4', 'KRAS'], 0.2)

def test_nan_gene_mean_uses_only_kept_samples(with_nan, clin):
    # s3 is dropped for OS time 0, so it must not enter the mean of TP53
    c = run_warned(lambda: make_cohort(with_nan, clin.assign(time=[100, 400, 0, 50]), nan_policy='gene_mean', **KW),
                   "OS time <= 0", "to the gene's mean")
    np.testing.assert_allclose(c.expression.loc['s2', 'TP53'], 1.5)

def test_nan_gene_mean_all_missing_gene_errors(with_nan, clin):
    with raises(ValueError, "gene(s) 'KRAS' have no value in any sample"):
        make_cohort(with_nan.assign(KRAS=np.nan), clin, nan_policy='gene_mean', **KW)

@pytest.mark.parametrize('policy,text', [('drop_genes', 'every gene'), ('drop_samples', 'every sample')])
def test_nan_drop_everything_errors(expr, clin, policy, text):
    e = expr.copy(); e.loc[:, 'TP53'] = np.nan; e.loc[:, 'EGFR'] = np.nan; e.loc[:, 'KRAS'] = np.nan
    with raises(ValueError, text): make_cohort(e, clin, nan_policy=policy, **KW)

def test_duplicated_genes_are_averaged_with_warning(expr, clin):
    dup = pd.concat([expr, expr[['TP53']] + 1.0, expr[['KRAS']] * 3], axis=1)
    with warns("2 gene symbol(s) appear in several columns and were averaged: 'TP53', 'KRAS'"):
        c = make_cohort(dup, clin, **KW)
    assert c.genes.tolist() == ['TP53', 'EGFR', 'KRAS']
    np.testing.assert_allclose(c.expression['TP53'], expr['TP53'] + 0.5)
    np.testing.assert_allclose(c.expression['KRAS'], expr['KRAS'] * 2)

def test_no_genes_errors(expr, clin):
    with raises(ValueError, "the expression table has no genes"): make_cohort(expr.iloc[:, :0], clin, **KW)


# ---------------------------------------------------------------- properties
ids = st.lists(st.text('abcdefgh0123456789-', min_size=1, max_size=8), min_size=2, max_size=12, unique=True)

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids, st.integers(1, 6), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_clinical_row_order(samples, n_genes, rnd):
    rng = np.random.default_rng(rnd.randint(0, 2**31))
    e = pd.DataFrame(rng.normal(size=(len(samples), n_genes)), index=samples, columns=[f'g{j}' for j in range(n_genes)])
    cl = pd.DataFrame({'os_time': rng.uniform(1, 3000, len(samples)), 'os_event': rng.integers(0, 2, len(samples))},
                      index=samples)
    a = no_warning(lambda: make_cohort(e, cl, 'days'))
    b = no_warning(lambda: make_cohort(e, cl.sample(frac=1, random_state=1), 'days'))
    pd.testing.assert_frame_equal(a.expression, b.expression)
    pd.testing.assert_frame_equal(a.clinical, b.clinical)
    np.testing.assert_array_equal(a.expression.to_numpy(), e.to_numpy())

@settings(max_examples=40, deadline=None)
@given(st.integers(2, 8), st.integers(1, 5), st.floats(0.05, 0.5), st.integers(0, 10**6))
def test_fill_policies_keep_observed_values(n, g, frac, seed):
    rng = np.random.default_rng(seed)
    e = pd.DataFrame(rng.normal(size=(n, g)), index=[f's{i}' for i in range(n)], columns=[f'g{j}' for j in range(g)])
    mask = rng.random((n, g)) < frac
    mask[0] = False  # every gene keeps one observed value
    e = e.mask(mask)
    cl = pd.DataFrame({'os_time': 100.0, 'os_event': 1}, index=e.index)
    for policy in ('zero', 'gene_mean'):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', CohortWarning)
            c = make_cohort(e, cl, 'days', nan_policy=policy)
        assert not c.expression.isna().any().any()
        observed = ~mask
        np.testing.assert_array_equal(c.expression.to_numpy()[observed], e.to_numpy()[observed])
        if policy == 'gene_mean': np.testing.assert_allclose(c.expression.mean(), e.mean())


# ---------------------------------------------------------------- parsers
def test_parse_os_time_and_event_direct():
    assert parse_os_time(pd.Series([' 34.5', 12, '0'])).tolist() == [34.5, 12., 0.]
    assert parse_os_event(pd.Series(['1:DECEASED', 'living', None])).iloc[:2].tolist() == [1., 0.]
    assert np.isnan(parse_os_event(pd.Series([None])).iloc[0])

def test_guess_separator(tmp_path):
    assert guess_separator('a.csv') == ',' and guess_separator('a.tsv.gz') == '\t' and guess_separator('a.tab') == '\t'
    (tmp_path / 'x.txt').write_text('# comment\nid;a;b\n1;2;3\n')
    assert guess_separator(tmp_path / 'x.txt') == ';'
    (tmp_path / 'y.txt').write_text('just words\n')
    with raises(ValueError, "cannot tell the separator"): guess_separator(tmp_path / 'y.txt')

def test_tcga_barcodes():
    assert tcga_patient_id('TCGA-05-4244-01A-01R-1107-07') == 'TCGA-05-4244'
    assert tcga_patient_id('TCGA-05-4244') == 'TCGA-05-4244' and tcga_patient_id('GSM1') == 'GSM1'
    assert tcga_sample_type('TCGA-05-4244-01A') == 1 and tcga_sample_type('TCGA-05-4250-11A') == 11
    assert tcga_sample_type('A001') is None


# ---------------------------------------------------------------- readers: delimited tables
TAB = dict(time_unit='days', time_col='os_time_days', event_col='os_event', name='fixture')
SAMPLES = ['TCGA-05-4249-01A', 'TCGA-05-4250-01A', 'TCGA-05-4382-01A', 'TCGA-05-4384-01A']

def read_table(expr_file, **kw):
    with warns("1 sample(s) with OS time <= 0 were dropped: TCGA-05-4244-01A (0)"), \
         warns("1 clinical sample(s) have no expression and were dropped: 'TCGA-05-4390-01A'"), \
         warns("1 expression sample(s) have no clinical row and were dropped: 'TCGA-05-4389-01A'"):
        return read_table_cohort(FIX / 'table' / expr_file, FIX / 'table' / 'clinical.csv', **{**TAB, **kw})

def test_read_table_samples_x_genes():
    c = read_table('expression_samples_x_genes.csv')
    assert c.samples.tolist() == SAMPLES and c.genes.tolist() == ['TP53', 'EGFR', 'KRAS', 'STK11', 'KEAP1']
    assert c.expression.loc['TCGA-05-4250-01A', 'TP53'] == 31.77
    assert c.os_time.tolist() == [1523., 121., 607., 426.] and c.os_event.tolist() == [0, 1, 0, 0]
    assert c.clinical['age'].tolist() == [67, 79, 68, 66]

def test_read_table_genes_x_samples_gzip_auto_equals_explicit():
    a = read_table('expression_samples_x_genes.csv')
    b = read_table('expression_genes_x_samples.tsv.gz')
    c = read_table('expression_genes_x_samples.tsv.gz', orientation='genes_x_samples')
    pd.testing.assert_frame_equal(a.expression, b.expression)
    pd.testing.assert_frame_equal(b.expression, c.expression)

def test_read_table_wrong_explicit_orientation_fails_loudly():
    with raises(ValueError, "no sample id is in both tables"):
        read_table_cohort(FIX / 'table/expression_genes_x_samples.tsv.gz', FIX / 'table/clinical.csv',
                          orientation='samples_x_genes', **TAB)
    with raises(ValueError, "unknown orientation 'rows'"):
        read_table_cohort(FIX / 'table/expression_genes_x_samples.tsv.gz', FIX / 'table/clinical.csv', orientation='rows', **TAB)

def test_read_table_orientation_undecidable(tmp_path):
    pd.DataFrame({'id': ['p1', 'p2'], 'os_time_days': [1, 2], 'os_event': [0, 1]}).to_csv(tmp_path / 'c.csv', index=False)
    with raises(ValueError, "cannot tell the orientation of the expression table: 0 clinical ids among its row labels"):
        read_table_cohort(FIX / 'table/expression_samples_x_genes.csv', tmp_path / 'c.csv', **TAB)

def test_read_table_sample_col_sniffed_txt_and_text_ids(tmp_path):
    (tmp_path / 'expr.txt').write_text('gene\t001\t002\t003\nTP53\t1\t2\t3\nEGFR\t4\t5\t6\n')
    (tmp_path / 'clin.txt').write_text('age\tpatient\ttime\tstatus\n50\t001\t10\tDead\n60\t002\t20\tAlive\n70\t003\t30\tDead\n')
    c = no_warning(lambda: read_table_cohort(tmp_path / 'expr.txt', tmp_path / 'clin.txt', 'months', sample_col='patient',
                                             time_col='time', event_col='status'))
    assert c.samples.tolist() == ['001', '002', '003']  # leading zeros kept
    assert c.expression['EGFR'].tolist() == [4., 5., 6.] and c.os_event.tolist() == [1, 0, 1]


# ---------------------------------------------------------------- readers: cBioPortal
CBIO = FIX / 'cbioportal_luad_tcga'

def test_read_cbioportal_table_skips_metadata_lines():
    t = read_cbioportal_table(CBIO / 'data_clinical_patient.txt')
    assert t.columns.tolist() == ['PATIENT_ID', 'SEX', 'OS_MONTHS', 'OS_STATUS']
    assert len(t) == 5 and t['OS_MONTHS'].isna().sum() == 1  # [Not Available]

def test_read_cbioportal_study_dir():
    with warns("1 row(s) without Hugo_Symbol were dropped (Entrez ids '100130426')"), \
         warns("1 extra sample(s) of patients with several samples were dropped, keeping the smallest sample id per "
               "patient (TCGA: primary tumour first): 'TCGA-05-4250-02'"), \
         warns("1 sample(s) with missing OS time or event were dropped: 'TCGA-05-4384'"), \
         warns("1 sample(s) with OS time <= 0 were dropped: TCGA-05-4244 (0)"), \
         warns("1 gene symbol(s) appear in several columns and were averaged: 'SLC35E2'"):
        c = read_cbioportal(CBIO)
    assert (c.name, c.time_unit) == ('cbioportal_luad_tcga', 'months')
    assert c.samples.tolist() == ['TCGA-05-4249', 'TCGA-05-4250', 'TCGA-05-4382']
    assert c.genes.tolist() == ['TP53', 'EGFR', 'KRAS', 'SLC35E2', 'STK11']
    assert c.expression.loc['TCGA-05-4250', 'TP53'] == 2010.0  # primary, not recurrence (1850.4)
    np.testing.assert_allclose(c.expression.loc['TCGA-05-4249', 'SLC35E2'], (401.5 + 420.5) / 2)
    assert c.os_time.tolist() == [50.03, 3.98, 19.94] and c.os_event.tolist() == [0, 1, 0]
    assert c.clinical['SEX'].tolist() == ['Male', 'Female', 'Male']

def test_read_cbioportal_without_sample_file_truncates_barcodes(tmp_path):
    for f in ('data_mrna_seq_v2_rsem.txt', 'data_clinical_patient.txt'): shutil.copy(CBIO / f, tmp_path / f)
    c = run_warned(lambda: read_cbioportal(tmp_path),
                   "no data_clinical_sample.txt; 6 TCGA sample barcode(s) were cut to the patient barcode, 0 id(s) kept",
                   "1 extra sample(s) of patients with several samples were dropped")
    assert c.samples.tolist() == ['TCGA-05-4249', 'TCGA-05-4250', 'TCGA-05-4382']
    assert c.expression.loc['TCGA-05-4250', 'TP53'] == 2010.0

def test_read_cbioportal_explicit_paths_and_unmapped_samples(tmp_path):
    sample_file = tmp_path / 'samples.txt'
    lines = (CBIO / 'data_clinical_sample.txt').read_text().splitlines()
    sample_file.write_text('\n'.join(l for l in lines if 'TCGA-05-4382-01' not in l) + '\n')
    c = run_warned(lambda: read_cbioportal(expression_path=CBIO / 'data_mrna_seq_v2_rsem.txt', sample_path=sample_file,
                                           patient_path=CBIO / 'data_clinical_patient.txt', name='explicit'),
                   "1 sample(s) are not in samples.txt and were dropped: 'TCGA-05-4382-01'",
                   "1 clinical sample(s) have no expression and were dropped: 'TCGA-05-4382'")
    assert c.name == 'explicit' and c.samples.tolist() == ['TCGA-05-4249', 'TCGA-05-4250']
    with raises(ValueError, "needs study_dir, or expression_path and patient_path"): read_cbioportal()


# ---------------------------------------------------------------- readers: UCSC Xena
XENA = (FIX / 'xena/TCGA-LUAD.htseq_log2.tsv.gz', FIX / 'xena/TCGA-LUAD.survival.tsv')

def test_read_xena_defaults():
    with warns("1 TCGA normal-tissue sample(s) (type 10-19) were dropped: 'TCGA-05-4250-11A'"), \
         warns("1 extra sample(s) of patients with several samples were dropped, keeping the smallest sample id per "
               "patient (TCGA: primary tumour first): 'TCGA-05-4384-01B'"), \
         warns("1 sample(s) with OS time <= 0 were dropped: TCGA-05-4244-01A (0)"):
        c = read_xena(*XENA)
    assert c.samples.tolist() == ['TCGA-05-4249-01A', 'TCGA-05-4250-01A', 'TCGA-05-4382-01A', 'TCGA-05-4384-01A']
    assert c.genes.tolist() == ['TP53', 'EGFR', 'KRAS', 'STK11'] and c.time_unit == 'days'
    assert c.os_time.tolist() == [1523., 121., 607., 426.] and c.os_event.tolist() == [0, 1, 0, 0]
    assert c.expression.loc['TCGA-05-4384-01A', 'STK11'] == 5.53
    assert c.clinical['_PATIENT'].tolist()[0] == 'TCGA-05-4249'

def test_read_xena_keep_everything():
    with warns("OS time <= 0"):
        c = read_xena(*XENA, drop_normals=False, one_per_patient=False)
    assert len(c) == 6 and 'TCGA-05-4250-11A' in c.samples and 'TCGA-05-4384-01B' in c.samples


# ---------------------------------------------------------------- readers: GEO series matrix
GSE = FIX / 'geo/GSE99999_series_matrix.txt'
GEO_KW = dict(time_unit='months', time_key='months_to_last_contact_or_death', event_key='vital_status')

def gpl():
    return pd.read_csv(FIX / 'geo/GPL570_annotation_excerpt.tsv', sep='\t', usecols=['ID', 'Gene Symbol'])

def test_parse_series_matrix_handles_shifted_characteristics():
    sm = parse_series_matrix(GSE)
    assert sm.table.shape == (8, 5) and sm.table.index[0] == '201983_s_at'
    assert sm.series['geo_accession'] == 'GSE99999'
    assert sm.samples.index.tolist() == [f'GSM167700{i}' for i in range(1, 6)]
    assert sm.samples['vital_status'].tolist() == ['Dead', 'Alive', 'Dead', 'Alive', 'Alive']
    assert sm.samples['months_to_last_contact_or_death'].tolist() == ['14.5', '88', '30.1', 'NA', '61.2']
    assert sm.samples['title'].iloc[0] == 'LUAD tumour 1' and pd.isna(sm.samples.loc['GSM1677005', 'sex'])

def test_read_geo_with_annotation_table_gzip(tmp_path):
    gz = tmp_path / 'GSE99999_series_matrix.txt.gz'
    with open(GSE, 'rb') as src, gzip.open(gz, 'wb') as dst: dst.write(src.read())
    with warns("1 probe(s) have no gene symbol in probe_map and were dropped: 'AFFX-BioB-5_at'"), \
         warns("1 probe(s) map to several genes ('///') and were dropped: 217714_x_at (STMN1 /// STMN1P2)"), \
         warns("1 sample(s) with missing OS time or event were dropped: 'GSM1677004'"), \
         warns("1 gene symbol(s) appear in several columns and were averaged: 'EGFR'"):
        c = read_geo_series_matrix(gz, probe_map=gpl(), **GEO_KW)
    assert (c.name, c.platform, c.time_unit) == ('GSE99999', 'GEO GPL570', 'months')
    assert c.samples.tolist() == ['GSM1677001', 'GSM1677002', 'GSM1677003', 'GSM1677005']
    assert c.genes.tolist() == ['EGFR', 'TP53', 'KRAS', 'STK11', 'KEAP1']
    np.testing.assert_allclose(c.expression['EGFR'], [(8.91 + 7.11) / 2, (9.42 + 7.8) / 2, (7.65 + 6.45) / 2, (8.3 + 6.98) / 2])
    assert c.os_time.tolist() == [14.5, 88., 30.1, 61.2] and c.os_event.tolist() == [1, 0, 1, 0]

def test_read_geo_dict_map_and_no_map():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', CohortWarning)
        c = read_geo_series_matrix(GSE, probe_map={'201746_at': 'TP53', '202417_at': 'KEAP1'}, **GEO_KW)
    assert c.genes.tolist() == ['TP53', 'KEAP1']
    c = run_warned(lambda: read_geo_series_matrix(GSE, **GEO_KW), "no probe_map; 8 probe ids are kept as gene names")
    assert c.genes[0] == '201983_s_at' and len(c.genes) == 8

def test_read_geo_missing_keys_and_external_clinical():
    with raises(ValueError, "characteristics key(s) ['os time', 'os status'] not found"):
        read_geo_series_matrix(GSE, 'months', probe_map=gpl())
    clinical = pd.DataFrame({'days': [100, 200, 300, 400, 500], 'dead': [1, 1, 0, 0, 1]},
                            index=[f'GSM167700{i}' for i in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', CohortWarning)
        c = read_geo_series_matrix(GSE, 'days', time_key='days', event_key='dead', clinical=clinical, probe_map=gpl(),
                                   name='ext', platform='Affymetrix HG-U133 Plus 2')
    assert len(c) == 5 and c.os_event.tolist() == [1, 1, 0, 0, 1] and c.platform == 'Affymetrix HG-U133 Plus 2'

def test_map_probes_errors():
    e = pd.DataFrame([[1., 2.]], columns=['p1', 'p2'])
    with raises(ValueError, "no probe maps to a gene symbol"):
        run_warned(lambda: map_probes(e, {'x': 'A'}), "2 probe(s) have no gene symbol in probe_map")
    with raises(ValueError, "needs exactly 2 columns"): map_probes(e, pd.DataFrame({'a': [1], 'b': [2], 'c': [3]}))
    with raises(TypeError, "probe_map must be"): map_probes(e, ['A', 'B'])

def test_not_a_series_matrix(tmp_path):
    (tmp_path / 'x.txt').write_text('!Series_title\t"x"\n')
    with raises(ValueError, "no !series_matrix_table_begin"): parse_series_matrix(tmp_path / 'x.txt')


# ---------------------------------------------------------------- readers: AnnData
def test_from_anndata(expr, clin):
    ad = pytest.importorskip('anndata')
    from scipy import sparse
    a = ad.AnnData(X=sparse.csr_matrix(expr.to_numpy()), obs=clin.astype({'status': 'category'}),
                   var=pd.DataFrame({'symbol': ['tp53', 'egfr', 'kras']}, index=expr.columns))
    a.layers['double'] = expr.to_numpy() * 2
    c = no_warning(lambda: from_anndata(a, 'time', 'status', 'days', name='ad'))
    np.testing.assert_array_equal(c.expression.to_numpy(), expr.to_numpy())
    assert c.genes.tolist() == ['TP53', 'EGFR', 'KRAS'] and c.os_event.tolist() == [1, 0, 1, 0]
    c = from_anndata(a, 'time', 'status', 'days', layer='double', gene_col='symbol')
    assert c.genes.tolist() == ['tp53', 'egfr', 'kras'] and c.expression.iloc[0, 0] == 3.0
    with raises(KeyError, "no layer 'counts'"): from_anndata(a, 'time', 'status', 'days', layer='counts')
    with raises(KeyError, "no var column 'gene'"): from_anndata(a, 'time', 'status', 'days', gene_col='gene')
    with raises(TypeError, "expected an AnnData"): from_anndata(expr, 'time', 'status', 'days')

def test_from_anndata_without_anndata_installed(monkeypatch, expr):
    monkeypatch.setitem(sys.modules, 'anndata', None)  # makes `import anndata` raise ImportError
    with raises(ImportError, "from_anndata needs the optional package 'anndata'"):
        from_anndata(expr, 'time', 'status', 'days')


# ---------------------------------------------------------------- summary
def test_summary_reverse_kaplan_meier(expr):
    # reverse KM: the death at 50 d is 'censored'; censorings at 100, 400, 2000 d are its events:
    # S(100) = 2/3, S(400) = 1/3 -> median follow-up 400 d (the plain median of observed times would be 250 d)
    clin = pd.DataFrame({'os_time': [100, 400, 2000, 50], 'os_event': [0, 0, 0, 1]}, index=expr.index)
    s = make_cohort(expr, clin, 'days', name='toy', platform='RNA-seq').summary()
    assert {k: s[k] for k in ('name', 'platform', 'n_samples', 'n_genes', 'n_deaths', 'n_censored', 'time_unit')} == \
        dict(name='toy', platform='RNA-seq', n_samples=4, n_genes=3, n_deaths=1, n_censored=3, time_unit='days')
    np.testing.assert_allclose(s['median_follow_up_years'], 400 / 365.25)
    clin_m = clin.assign(os_time=clin.os_time / 365.25 * 12)
    np.testing.assert_allclose(make_cohort(expr, clin_m, 'months').summary()['median_follow_up_years'], 400 / 365.25)

def test_summary_nobody_censored_is_nan(expr):
    clin = pd.DataFrame({'os_time': [1., 2., 3., 4.], 'os_event': 1}, index=expr.index)
    assert np.isnan(make_cohort(expr, clin, 'years').summary()['median_follow_up_years'])


# ---------------------------------------------------------------- the real TCGA-LUAD cohort in ../shared
def test_real_tcga_luad_cohort(shared_dir):
    d = shared_dir / 'data/real/tcga_luad_necroptosis160'
    if not d.is_dir(): pytest.skip(f'{d} is absent')
    with warns("4 sample(s) with OS time <= 0 were dropped: TCGA-05-4244-01A (0)"):
        c = read_table_cohort(d / 'expression.csv.gz', d / 'clinical.csv', 'days', time_col='os_time_days',
                              event_col='os_event', name='TCGA-LUAD')
    assert (len(c), len(c.genes)) == (464, 160)
    assert (c.os_time > 0).all() and set(c.os_event.unique()) == {0, 1}
    assert c.expression.notna().all().all() and (c.expression >= 0).all().all()  # FPKM-like, not log
    raw = pd.read_csv(d / 'clinical.csv')
    assert c.summary()['n_deaths'] == int(raw.loc[raw.os_time_days > 0, 'os_event'].sum())
    gmt = shared_dir / 'data/pathways/kegg_pathways_in_cancer_40.gmt'
    if gmt.exists():
        from survconvmixer.pathways import read_gmt
        kegg = read_gmt(gmt)
        with pytest.warns(UserWarning, match='pathway genes are missing'):
            h, missing = harmonise_genes(c.expression, kegg.genes, cohort_name=c.name)
        assert h.shape == (464, len(kegg.genes)) and 0 < len(missing) < len(kegg.genes)
        assert (h[missing] == 0).all().all()
