"""Tests of `survconvmixer.sources`: public studies fetched from a local web server (127.0.0.1) serving fixture files
in the published formats (a cBioPortal datahub archive, a UCSC Xena matrix and survival file, a GEO series matrix),
read by the cohort readers; the cache; and the one-line errors (truncated download, checksum mismatch, connection
refused, HTTP 404, unsafe archive, unknown prefix / malformed id)."""
import functools, gzip, hashlib, http.server, io, shutil, socket, tarfile, threading
from pathlib import Path

import pytest

from survconvmixer.data import read_cohort, read_xena, read_geo_series_matrix
from survconvmixer.sources import (SOURCE_PREFIXES, URL_ENV, FetchedSource, SourceError, SourceNotFound, cache_path,
                                   default_cache_dir, fetch_source, is_public_source, source_url)

STUDY = 'luad_tcga_toy'
GSE = 'GSE51088'
GENES = ['TP53', 'EGFR', 'KRAS', 'STK11', 'KEAP1', 'NFE2L2', 'SMARCA4', 'BRAF', 'MET', 'ALK',
         'ROS1', 'RET', 'ERBB2', 'PIK3CA', 'PTEN', 'CDKN2A', 'RB1', 'MYC', 'NKX2-1', 'SOX2']
PATIENTS = [f'TCGA-AA-000{i}' for i in range(1, 7)]
SAMPLES = [f'{p}-01' for p in PATIENTS]
MONTHS = [12.5, 30.0, 7.25, 60.0, 44.1, 3.0]
EVENTS = [1, 0, 1, 0, 0, 1]


def value(i: int, j: int) -> float:
    return round(((i * 7 + j * 3) % 11) * 1.37 + 0.5, 3)


# ---------------------------------------------------------------- fixture files in the published formats

def cbioportal_archive(site: Path, study: str = STUDY) -> Path:
    "`<site>/cbioportal/<study>.tar.gz` holding `<study>/` with the RSEM matrix and the two clinical files."
    rsem = ['Hugo_Symbol\tEntrez_Gene_Id\t' + '\t'.join(SAMPLES)]
    rsem += [f'{g}\t{1000 + i}\t' + '\t'.join(str(value(i, j)) for j in range(len(SAMPLES))) for i, g in enumerate(GENES)]
    patient = ['#Patient Identifier\tOverall Survival Status\tOverall Survival (Months)',
               '#Identifier to uniquely specify a patient.\tOverall patient survival status.\tOverall survival in months since initial diagonosis.',
               '#STRING\tSTRING\tNUMBER', '#1\t1\t1', 'PATIENT_ID\tOS_STATUS\tOS_MONTHS']
    patient += [f'{p}\t{"1:DECEASED" if e else "0:LIVING"}\t{m}' for p, e, m in zip(PATIENTS, EVENTS, MONTHS)]
    sample = ['#Patient Identifier\tSample Identifier\tCancer Type', '#Identifier to uniquely specify a patient.\t'
              'A unique sample identifier.\tCancer type.', '#STRING\tSTRING\tSTRING', '#1\t1\t1',
              'PATIENT_ID\tSAMPLE_ID\tCANCER_TYPE']
    sample += [f'{p}\t{s}\tNon-Small Cell Lung Cancer' for p, s in zip(PATIENTS, SAMPLES)]
    files = {'data_mrna_seq_v2_rsem.txt': rsem, 'data_clinical_patient.txt': patient,
             'data_clinical_sample.txt': sample,
             'meta_study.txt': ['type_of_cancer: luad', f'cancer_study_identifier: {study}', 'name: toy study']}
    out = site / 'cbioportal' / f'{study}.tar.gz'
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, 'w:gz') as tar:
        add_dir(tar, study)
        for name, lines in files.items(): add_file(tar, f'{study}/{name}', ('\n'.join(lines) + '\n').encode())
    return out

def add_dir(tar: tarfile.TarFile, name: str):
    info = tarfile.TarInfo(name); info.type = tarfile.DIRTYPE; info.mode = 0o755
    tar.addfile(info)

def add_file(tar: tarfile.TarFile, name: str, data: bytes):
    info = tarfile.TarInfo(name); info.size = len(data); info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))

def xena_files(site: Path) -> tuple[Path, Path]:
    "The tcga hub's gzipped `TCGA.LUAD.sampleMap/HiSeqV2` (genes x samples) and its uncompressed survival file."
    expr = ['sample\t' + '\t'.join(SAMPLES)]
    expr += [f'{g}\t' + '\t'.join(str(value(i, j)) for j in range(len(SAMPLES))) for i, g in enumerate(GENES)]
    surv = ['sample\t_PATIENT\tOS\tOS.time\tDSS\tDSS.time']
    surv += [f'{s}\t{p}\t{e}\t{round(m * 30.44)}\t{e}\t{round(m * 30.44)}'
             for s, p, e, m in zip(SAMPLES, PATIENTS, EVENTS, MONTHS)]
    expr_path = site / 'xena/tcga/download/TCGA.LUAD.sampleMap/HiSeqV2.gz'
    surv_path = site / 'xena/tcga/download/survival/LUAD_survival.txt'     # served without .gz, as the hubs do
    for path in (expr_path, surv_path): path.parent.mkdir(parents=True, exist_ok=True)
    expr_path.write_bytes(gzip.compress(('\n'.join(expr) + '\n').encode()))
    surv_path.write_text('\n'.join(surv) + '\n')
    return expr_path, surv_path

PROBES = {f'{1000 + i}_at': g for i, g in enumerate(GENES)}

def geo_matrix(site: Path, gse: str = GSE) -> Path:
    "A GEO series matrix `.txt.gz` at GEO's path, with survival in `!Sample_characteristics_ch1`."
    gsm = [f'GSM12{i:04d}' for i in range(len(PATIENTS))]
    quoted = lambda values: '\t'.join(f'"{v}"' for v in values)
    lines = ['!Series_title\t"Toy lung cancer series"', f'!Series_geo_accession\t"{gse}"',
             '!Series_platform_id\t"GPL570"', '!Sample_title\t' + quoted(PATIENTS),
             '!Sample_geo_accession\t' + quoted(gsm), '!Sample_platform_id\t' + quoted(['GPL570'] * len(gsm)),
             '!Sample_characteristics_ch1\t' + quoted(['tissue: lung tumour'] * len(gsm)),
             '!Sample_characteristics_ch1\t' + quoted(f'os time: {m}' for m in MONTHS),
             '!Sample_characteristics_ch1\t' + quoted(f'os status: {e}' for e in EVENTS),
             '!series_matrix_table_begin', '"ID_REF"\t' + quoted(gsm)]
    lines += [f'"{p}"\t' + '\t'.join(str(value(i, j)) for j in range(len(gsm))) for i, p in enumerate(PROBES)]
    lines += ['!series_matrix_table_end']
    folder = f'GSE{gse[3:-3]}nnn'
    path = site / f'geo/series/{folder}/{gse}/matrix/{gse}_series_matrix.txt.gz'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(('\n'.join(lines) + '\n').encode()))
    return path

def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- the local server

class Handler(http.server.SimpleHTTPRequestHandler):
    "Serves the site folder; records each request; sends a truncated body for the URL paths in `server.truncate`."
    def do_GET(self):
        self.server.seen.append(self.path)
        if self.path in self.server.truncate:
            body = Path(self.translate_path(self.path)).read_bytes()
            self.send_response(200)
            self.send_header('Content-Length', str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2]); self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args): pass


@pytest.fixture
def site(tmp_path):
    folder = tmp_path / 'site'
    folder.mkdir()
    return folder

@pytest.fixture
def server(site, monkeypatch):
    "A ThreadingHTTPServer on 127.0.0.1 (port 0) serving `site`, with every prefix's base URL pointing at it."
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=str(site)))
    srv.seen, srv.truncate = [], set()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    base = f'http://127.0.0.1:{srv.server_address[1]}'
    for prefix in SOURCE_PREFIXES: monkeypatch.setenv(URL_ENV[prefix], f'{base}/{prefix}')
    yield srv
    srv.shutdown(); srv.server_close(); thread.join(5)

@pytest.fixture
def cache(tmp_path):
    return tmp_path / 'cache'

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob('*') if p.is_file()) if folder.exists() else []

def one_line_error(excinfo) -> str:
    "The message of a raised SourceError, checked to be one line."
    message = str(excinfo.value)
    assert isinstance(excinfo.value, ValueError) and '\n' not in message and message
    return message


# ---------------------------------------------------------------- naming

@pytest.mark.parametrize('text', ['cbioportal:luad_tcga', 'xena:tcga/TCGA.LUAD.sampleMap/HiSeqV2', 'geo:GSE51088',
                                  'geo:foo'])
def test_public_source_names(text):
    assert is_public_source(text)

@pytest.mark.parametrize('text', ['C:\\data\\expr.tsv', 'c:/data/expr.tsv', 'data/expr.tsv', '/abs/expr.tsv',
                                  'expr.tsv', 'ftp:GSE1', 'GEO:GSE1', Path('geo:GSE1'), None, 3])
def test_paths_are_not_sources(text):
    assert not is_public_source(text)

def test_public_urls(monkeypatch):
    for env in URL_ENV.values(): monkeypatch.delenv(env, raising=False)
    assert source_url('cbioportal:luad_tcga') == 'https://cbioportal-datahub.s3.amazonaws.com/luad_tcga.tar.gz'
    assert source_url('xena:tcga/TCGA.LUAD.sampleMap/HiSeqV2') == \
        'https://tcga-xena-hub.s3.us-east-1.amazonaws.com/download/TCGA.LUAD.sampleMap%2FHiSeqV2.gz'
    assert source_url('xena:gdc/TCGA-LUAD.survival.tsv') == \
        'https://gdc-hub.s3.us-east-1.amazonaws.com/download/TCGA-LUAD.survival.tsv.gz'
    assert source_url('xena:toil/tcga_RSEM_gene_tpm') == \
        'https://toil-xena-hub.s3.us-east-1.amazonaws.com/download/tcga_RSEM_gene_tpm.gz'
    assert source_url('geo:GSE51088') == \
        'https://ftp.ncbi.nlm.nih.gov/geo/series/GSE51nnn/GSE51088/matrix/GSE51088_series_matrix.txt.gz'
    assert source_url('geo:GSE7') == 'https://ftp.ncbi.nlm.nih.gov/geo/series/GSEnnn/GSE7/matrix/GSE7_series_matrix.txt.gz'
    assert source_url('geo:GSE1000') == \
        'https://ftp.ncbi.nlm.nih.gov/geo/series/GSE1nnn/GSE1000/matrix/GSE1000_series_matrix.txt.gz'
    assert source_url('geo:GSE126044-GPL20301').endswith('/GSE126nnn/GSE126044/matrix/GSE126044-GPL20301_series_matrix.txt.gz')

def test_base_urls_read_at_call_time(monkeypatch):
    monkeypatch.setenv('SURVCONVMIXER_CBIOPORTAL_URL', 'http://mirror.test/cbio/')
    monkeypatch.setenv('SURVCONVMIXER_XENA_URL', 'http://mirror.test/xena')
    monkeypatch.setenv('SURVCONVMIXER_GEO_URL', 'https://mirror.test/geo')
    assert source_url('cbioportal:luad_tcga') == 'http://mirror.test/cbio/luad_tcga.tar.gz'
    assert source_url('xena:pancanatlas/EB++Adjust.xena') == 'http://mirror.test/xena/pancanatlas/download/EB%2B%2BAdjust.xena.gz'
    assert source_url('geo:GSE51088') == 'https://mirror.test/geo/series/GSE51nnn/GSE51088/matrix/GSE51088_series_matrix.txt.gz'
    monkeypatch.setenv('SURVCONVMIXER_GEO_URL', 'ftp://mirror.test/geo')
    with pytest.raises(SourceError) as e: source_url('geo:GSE51088')
    assert 'SURVCONVMIXER_GEO_URL' in one_line_error(e)

@pytest.mark.parametrize('source, words', [
    ('ftp:GSE51088', 'cbioportal:, xena:, geo:'), ('GSE51088', 'cbioportal:, xena:, geo:'),
    ('geo:foo', 'GSE and digits'), ('geo:GSE51088x', 'GSE and digits'), ('geo:', 'empty'),
    ('cbioportal:../../etc', 'study id'), ('cbioportal:luad tcga', 'study id'),
    ('xena:tcga/../../etc/passwd', 'malformed Xena dataset'), ('xena:tcga/', 'malformed Xena dataset'),
    ('xena:tcga', 'malformed Xena dataset'), ('xena:mars/HiSeqV2', 'unknown Xena hub')])
def test_unknown_prefix_and_malformed_ids(source, words, cache):
    with pytest.raises(SourceError) as e: fetch_source(source, cache_dir=cache, progress=False)
    assert words in one_line_error(e)
    assert not cache.exists()

def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv('SURVCONVMIXER_CACHE', str(tmp_path / 'c'))
    assert default_cache_dir() == tmp_path / 'c'
    assert cache_path('geo:GSE51088') == tmp_path / 'c/geo/GSE51088_series_matrix.txt.gz'
    monkeypatch.delenv('SURVCONVMIXER_CACHE')
    assert default_cache_dir().name == 'survconvmixer'


# ---------------------------------------------------------------- fetched and read

def test_cbioportal_study_is_fetched_unpacked_and_read(server, site, cache):
    archive = cbioportal_archive(site)
    fetched = fetch_source(f'cbioportal:{STUDY}', cache_dir=cache, progress=False)
    assert isinstance(fetched, FetchedSource)
    assert fetched.format == 'cbioportal' and fetched.url.endswith(f'/cbioportal/{STUDY}.tar.gz')
    assert fetched.path == cache / 'cbioportal' / STUDY / STUDY
    assert fetched.sha256 == sha256(archive) == sha256(cache / 'cbioportal' / f'{STUDY}.tar.gz')
    assert fetched.summary() == {'source': f'cbioportal:{STUDY}', 'format': 'cbioportal', 'url': fetched.url,
                                 'path': str(fetched.path), 'sha256': fetched.sha256}
    cohort = read_cohort('cbioportal', fetched.path)
    assert len(cohort) == 6 and sorted(cohort.samples) == PATIENTS and cohort.expression.shape[1] == len(GENES)
    assert cohort.os_event.tolist() == [float(e) for e in EVENTS] and cohort.time_unit == 'months'

def test_xena_files_are_fetched_and_read(server, site, cache):
    expr, surv = xena_files(site)
    fx = fetch_source('xena:tcga/TCGA.LUAD.sampleMap/HiSeqV2', cache_dir=cache, progress=False)
    fs = fetch_source('xena:tcga/survival/LUAD_survival.txt', cache_dir=cache, progress=False)
    assert fx.path == cache / 'xena/tcga/TCGA.LUAD.sampleMap/HiSeqV2.gz' and fx.sha256 == sha256(expr)
    assert fs.path == cache / 'xena/tcga/survival/LUAD_survival.txt' and fs.sha256 == sha256(surv)
    assert fs.url.endswith('/download/survival%2FLUAD_survival.txt')       # the .gz name was not found: plain file
    assert server.seen == ['/xena/tcga/download/TCGA.LUAD.sampleMap%2FHiSeqV2.gz',
                           '/xena/tcga/download/survival%2FLUAD_survival.txt.gz',
                           '/xena/tcga/download/survival%2FLUAD_survival.txt']
    cohort = read_xena(fx.path, fs.path)
    assert len(cohort) == 6 and cohort.expression.shape[1] == len(GENES) and cohort.time_unit == 'days'

def test_geo_series_matrix_is_fetched_and_read(server, site, cache):
    matrix = geo_matrix(site)
    fetched = fetch_source(f'geo:{GSE.lower()}', cache_dir=cache, progress=False)
    assert fetched.path == cache / f'geo/{GSE}_series_matrix.txt.gz' and fetched.sha256 == sha256(matrix)
    assert server.seen == [f'/geo/series/GSE51nnn/{GSE}/matrix/{GSE}_series_matrix.txt.gz']
    cohort = read_geo_series_matrix(fetched.path, time_unit='months', probe_map=PROBES)
    assert len(cohort) == 6 and sorted(cohort.genes) == sorted(GENES)
    assert cohort.os_time.tolist() == MONTHS and cohort.name == GSE

def test_second_fetch_uses_the_cache_without_a_request(server, site, cache):
    cbioportal_archive(site); xena_files(site); geo_matrix(site)
    sources = [f'cbioportal:{STUDY}', 'xena:tcga/TCGA.LUAD.sampleMap/HiSeqV2', 'xena:tcga/survival/LUAD_survival.txt',
               f'geo:{GSE}']
    first = [fetch_source(s, cache_dir=cache, progress=False) for s in sources]
    n = len(server.seen)
    again = [fetch_source(s, cache_dir=cache, progress=False) for s in sources]
    assert len(server.seen) == n and again == first
    shutil.rmtree(cache / 'cbioportal' / STUDY)          # the unpacked folder is redone from the cached archive
    assert fetch_source(sources[0], cache_dir=cache, progress=False) == first[0] and len(server.seen) == n
    assert fetch_source(sources[3], cache_dir=cache, known_hash=first[3].sha256, progress=False) == first[3]
    assert len(server.seen) == n

def test_progress_bar(server, site, cache, capsys):
    geo_matrix(site)
    fetch_source(f'geo:{GSE}', cache_dir=cache, progress=True)
    err = capsys.readouterr().err
    assert f'geo:{GSE}: downloading http://127.0.0.1' in err and '100%' in err and 'pooch.retrieve' not in err
    fetch_source(f'geo:{GSE}', cache_dir=cache, progress=True)
    assert capsys.readouterr().err == ''                   # from the cache: nothing to report


# ---------------------------------------------------------------- errors

def test_truncated_download_is_an_error_and_leaves_nothing(server, site, cache):
    matrix = geo_matrix(site)
    url_path = f'/geo/series/GSE51nnn/{GSE}/matrix/{GSE}_series_matrix.txt.gz'
    server.truncate.add(url_path)
    with pytest.raises(SourceError) as e: fetch_source(f'geo:{GSE}', cache_dir=cache, progress=False)
    message = one_line_error(e)
    assert 'stopped early' in message and 'more expected' in message and url_path in message
    assert files_in(cache) == []
    server.truncate.clear()
    fetched = fetch_source(f'geo:{GSE}', cache_dir=cache, progress=False)
    assert fetched.sha256 == sha256(matrix) and files_in(cache) == [fetched.path]
    assert len(server.seen) == 2

def test_truncated_archive_download(server, site, cache):
    cbioportal_archive(site)
    server.truncate.add(f'/cbioportal/{STUDY}.tar.gz')
    with pytest.raises(SourceError) as e: fetch_source(f'cbioportal:{STUDY}', cache_dir=cache, progress=False)
    assert 'stopped early' in one_line_error(e) and files_in(cache) == []
    server.truncate.clear()
    assert len(read_cohort('cbioportal', fetch_source(f'cbioportal:{STUDY}', cache_dir=cache, progress=False).path)) == 6

def test_checksum_mismatch(server, site, cache):
    matrix = geo_matrix(site)
    wrong = '0' * 64
    with pytest.raises(SourceError) as e:
        fetch_source(f'geo:{GSE}', cache_dir=cache, known_hash=wrong, progress=False)
    message = one_line_error(e)
    assert f'geo:{GSE}' in message and wrong in message and sha256(matrix) in message and 'mismatch' in message
    assert files_in(cache) == []
    fetched = fetch_source(f'geo:{GSE}', cache_dir=cache, known_hash='sha256:' + sha256(matrix).upper(), progress=False)
    assert fetched.sha256 == sha256(matrix)
    with pytest.raises(SourceError) as e: fetch_source(f'geo:{GSE}', cache_dir=cache, known_hash='abc', progress=False)
    assert '64 hex digits' in one_line_error(e)

def test_cached_file_with_another_hash_is_downloaded_again(server, site, cache):
    matrix = geo_matrix(site)
    stale = cache_path(f'geo:{GSE}', cache)
    stale.parent.mkdir(parents=True)
    stale.write_bytes(gzip.compress(b'an older version\n'))
    fetched = fetch_source(f'geo:{GSE}', cache_dir=cache, known_hash=sha256(matrix), progress=False)
    assert len(server.seen) == 1 and sha256(stale) == sha256(matrix) == fetched.sha256

def test_connection_refused_names_url_and_cache_path(monkeypatch, site, cache):
    geo_matrix(site)
    monkeypatch.setenv('SURVCONVMIXER_GEO_URL', f'http://127.0.0.1:{closed_port()}/geo')
    with pytest.raises(SourceError) as e: fetch_source(f'geo:{GSE}', cache_dir=cache, progress=False)
    message = one_line_error(e)
    assert 'Connection refused' in message and source_url(f'geo:{GSE}') in message
    assert str(cache_path(f'geo:{GSE}', cache)) in message and 'by hand' in message
    assert files_in(cache) == []

@pytest.mark.parametrize('source', [f'geo:{GSE}', f'cbioportal:{STUDY}', 'xena:tcga/TCGA.LUAD.sampleMap/HiSeqV2'])
def test_file_placed_by_hand_is_used_offline(monkeypatch, site, cache, source):
    served = {'geo': geo_matrix, 'cbioportal': cbioportal_archive, 'xena': lambda s: xena_files(s)[0]}[source.split(':')[0]](site)
    for env in URL_ENV.values(): monkeypatch.setenv(env, f'http://127.0.0.1:{closed_port()}/x')
    with pytest.raises(SourceError) as e: fetch_source(source, cache_dir=cache, progress=False)
    target = Path(one_line_error(e).split(' and save it as ')[1].split(' (the next run')[0])
    assert target == cache_path(source, cache)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(served, target)
    fetched = fetch_source(source, cache_dir=cache, progress=False)
    assert fetched.sha256 == sha256(served)
    if source.startswith('cbioportal'): assert len(read_cohort('cbioportal', fetched.path)) == 6

def test_http_404(server, cache):
    with pytest.raises(SourceNotFound) as e: fetch_source('geo:GSE999999', cache_dir=cache, progress=False)
    message = one_line_error(e)
    assert 'HTTP 404' in message and '/geo/series/GSE999nnn/GSE999999/matrix/GSE999999_series_matrix.txt.gz' in message
    assert str(cache_path('geo:GSE999999', cache)) in message and files_in(cache) == []
    with pytest.raises(SourceNotFound) as e: fetch_source('xena:tcga/TCGA.XXX.sampleMap/HiSeqV2', cache_dir=cache,
                                                          progress=False)
    assert 'neither' in one_line_error(e) and 'xenabrowser.net' in str(e.value)

def test_non_gzip_answer_is_not_cached(server, site, cache):
    page = site / f'geo/series/GSE51nnn/{GSE}/matrix/{GSE}_series_matrix.txt.gz'
    page.parent.mkdir(parents=True)
    page.write_text('<html><body>Please log in to the hotel wifi</body></html>')
    with pytest.raises(SourceError) as e: fetch_source(f'geo:{GSE}', cache_dir=cache, progress=False)
    assert 'did not send gzip data' in one_line_error(e) and files_in(cache) == []

@pytest.mark.parametrize('member', ['../escaped.txt', 'evil_study/../../escaped.txt', 'ABSOLUTE', 'link',
                                    'hardlink'])
def test_archive_member_outside_its_folder_is_refused(server, site, cache, tmp_path, member):
    absolute = tmp_path / 'escaped-absolute.txt'
    archive = site / 'cbioportal' / 'evil_study.tar.gz'
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, 'w:gz') as tar:
        add_dir(tar, 'evil_study')
        add_file(tar, 'evil_study/data_clinical_patient.txt', b'PATIENT_ID\tOS_STATUS\tOS_MONTHS\n')
        if member in ('link', 'hardlink'):
            info = tarfile.TarInfo('evil_study/link')
            info.type, info.linkname = (tarfile.SYMTYPE, '../../../../etc/passwd') if member == 'link' else \
                (tarfile.LNKTYPE, 'evil_study/data_clinical_patient.txt')
            tar.addfile(info)
        else: add_file(tar, str(absolute) if member == 'ABSOLUTE' else member, b'pwned')
    with pytest.raises(SourceError) as e: fetch_source('cbioportal:evil_study', cache_dir=cache, progress=False)
    assert 'refused and removed from the cache' in one_line_error(e)
    assert not (cache / 'escaped.txt').exists() and not (cache / 'cbioportal/escaped.txt').exists()
    assert not absolute.exists() and files_in(cache) == []

def test_archive_without_a_study(server, site, cache):
    archive = site / 'cbioportal' / 'empty_study.tar.gz'
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, 'w:gz') as tar: add_file(tar, 'empty_study/readme.txt', b'nothing here')
    with pytest.raises(SourceError) as e: fetch_source('cbioportal:empty_study', cache_dir=cache, progress=False)
    assert 'no data_clinical_patient.txt' in one_line_error(e)
