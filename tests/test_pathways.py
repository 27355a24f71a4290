"""Pathways: GMT reading, KEGG NETWORK parsing and the cached KEGG REST client (offline: a local server)."""
import socket
import threading
import warnings
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from survconvmixer.pathways import (DuplicateGeneWarning, KeggClient, KeggError, KeggNetwork, PathwayCollection, data_dir, network_to_pathway, networks_to_collection,
                                    parse_kegg_link, parse_kegg_network, parse_kegg_networks, read_gmt, write_gmt)

FIXTURES = Path(__file__).parent / 'fixtures' / 'kegg'
NETWORK_IDS = ['N00001', 'N00043', 'N00053']


def fixture_text(name: str) -> str: return (FIXTURES / name).read_text(encoding='utf-8')


# ---------------------------------------------------------------- GMT
def test_gmt_repeated_gene_keeps_first_and_warns(tmp_path):
    f = tmp_path / 'dup.gmt'
    f.write_text('A\tKEGG_NETWORK:N1\tX\tY\tX\tZ\tY\nB\tNA\tQ\tR\n')
    with pytest.warns(DuplicateGeneWarning) as record:
        pc = read_gmt(f)
    assert pc['A'].genes == ('X', 'Y', 'Z')
    assert pc['B'].genes == ('Q', 'R')
    assert len(record) == 1
    message = str(record[0].message)
    assert "pathway 'A'" in message and "['X', 'Y']" in message and 'dup.gmt:1' in message


def test_gmt_without_repeats_does_not_warn(tmp_path):
    pc = PathwayCollection.from_dict({'A': ['X', 'Y'], 'B': ['Y', 'Z']}, name='t')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        back = read_gmt(write_gmt(pc, tmp_path / 't.gmt'))
    assert back.to_dict() == pc.to_dict()


def test_shared_kegg40_counts(shared_dir):
    pc = read_gmt(shared_dir / 'data/pathways/kegg_pathways_in_cancer_40.gmt')
    assert (len(pc), len(pc.genes), pc.longest) == (40, 295, 46)
    assert all(p.identifier.startswith('KEGG_NETWORK:N') for p in pc)


# ---------------------------------------------------------------- KEGG NETWORK flat files
def test_parse_network_fields():
    net = parse_kegg_network(fixture_text('N00043.txt'))
    assert net.entry == 'N00043' and net.name == 'HGF-MET-PI3K signaling pathway'
    assert net.type == 'Reference'
    assert net.definition == 'HGF -> MET -> GAB1 -> PI3K -> PIP3 -> AKT -| BAD'
    assert net.expanded.startswith('3082 -> 4233 -> 2549 -> (5290,5291,5293) -> C05981')
    assert net.classes[0] == ('nt06261', 'Gastric cancer') and len(net.classes) == 5
    assert net.pathways == [('hsa04151', 'PI3K-Akt signaling pathway')]
    assert net.genes == [('3082', 'HGF'), ('4233', 'MET'), ('2549', 'GAB1'), ('5290', 'PIK3CA'), ('5291', 'PIK3CB'),
                         ('5293', 'PIK3CD'), ('207', 'AKT1'), ('208', 'AKT2'), ('10000', 'AKT3'), ('572', 'BAD')]


def test_gene_order_follows_gene_section_and_expanded_ids():
    for nid in NETWORK_IDS:
        net = parse_kegg_network(fixture_text(f'{nid}.txt'))
        # every Entrez id of the gene section appears in EXPANDED (compounds like C05981 are not genes)
        expanded_ids = [t for t in net.expanded.replace('(', ' ').replace(')', ' ').replace(',', ' ').split()
                        if t.isdigit()]
        assert net.entrez_ids == expanded_ids


def test_parse_rejects_non_network_text():
    with pytest.raises(ValueError, match="not a KEGG NETWORK entry: ENTRY line reads 'hsa05200"):
        parse_kegg_network('ENTRY       hsa05200                    Pathway\nNAME        Pathways in cancer\n///\n')
    with pytest.raises(ValueError, match='not a KEGG flat-file entry'):
        parse_kegg_network('<!DOCTYPE html>\n<html></html>')
    with pytest.raises(ValueError, match='starts with .NAME'):
        parse_kegg_network('NAME        x\n///')
    with pytest.raises(ValueError, match='empty text'):
        parse_kegg_network('\n\n')
    with pytest.raises(ValueError, match='cannot read a gene'):
        parse_kegg_network('ENTRY       N00001                      Network\nNAME        x\nGENE        1950\n///')


def test_parse_several_entries():
    text = ''.join(fixture_text(f'{n}.txt') for n in NETWORK_IDS)
    with pytest.raises(ValueError, match='found 3'):
        parse_kegg_network(text)
    assert [n.entry for n in parse_kegg_networks(text)] == NETWORK_IDS


def test_network_to_pathway_and_collection(shared_dir):
    nets = parse_kegg_networks(''.join(fixture_text(f'{n}.txt') for n in NETWORK_IDS))
    pc = networks_to_collection(nets, name='x')
    gmt = {p.identifier: p for p in read_gmt(shared_dir / 'data/pathways/kegg_pathways_in_cancer_40.gmt')}
    for p in pc: assert gmt[p.identifier] == p


def test_network_with_repeated_symbol_warns():
    net = KeggNetwork('N00009', 'toy', genes=[('1', 'A'), ('2', 'B'), ('3', 'A')])
    with pytest.warns(DuplicateGeneWarning, match=r"N00009.*\['A'\]"):
        assert network_to_pathway(net).genes == ('A', 'B')


def test_collection_handles_empty_and_repeated_names():
    nets = [KeggNetwork('N00001', 'same', genes=[('1', 'A')]), KeggNetwork('N00002', 'same', genes=[('2', 'B')]),
            KeggNetwork('N00003', 'metabolic only')]
    with pytest.warns(UserWarning) as record:
        pc = networks_to_collection(nets)
    assert pc.names == ['same (N00001)', 'same (N00002)']
    messages = ' '.join(str(r.message) for r in record)
    assert 'N00003' in messages and "['same']" in messages


def test_parse_link():
    assert parse_kegg_link(fixture_text('link_network_hsa05200.txt')) == NETWORK_IDS
    with pytest.raises(ValueError, match='2 tab-separated'):
        parse_kegg_link('path:hsa05200 ne:N00001\n')


# ---------------------------------------------------------------- the client against a local server
@contextmanager
def kegg_server(fail_first: int = 0, delay: float = 0.0, answers: dict | None = None):
    """Stand-in for rest.kegg.jp on 127.0.0.1 serving the fixtures; the first `fail_first` requests get a 503,
    paths in `answers` get that text instead. Yields (base_url, list of request paths)."""
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            if len(requests) <= fail_first:
                self.send_response(503); self.end_headers(); return
            if delay: threading.Event().wait(delay)
            op, _, arg = self.path.strip('/').partition('/')
            if answers and self.path in answers:
                body = answers[self.path].encode()
                self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
                self.wfile.write(body); return
            if op == 'get': files = [FIXTURES / f'{e}.txt' for e in arg.split('+')]
            elif op == 'link': files = [FIXTURES / f"link_{arg.replace('/', '_')}.txt"]
            else: files = []
            files = [f for f in files if f.exists()]
            body = ''.join(f.read_text(encoding='utf-8') for f in files).encode()
            try:
                self.send_response(200 if files else 404)
                self.send_header('Content-Length', str(len(body))); self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError): pass  # the client gave up (timeout test)

        def log_message(self, *args): pass

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try: yield f'http://127.0.0.1:{server.server_port}', requests
    finally:
        server.shutdown(); server.server_close(); thread.join(5)


def test_client_builds_collection_and_caches(tmp_path):
    with kegg_server() as (url, requests):
        client = KeggClient(url, cache_dir=tmp_path, timeout=5)
        pc = client.pathway_collection('hsa05200')
        assert requests == ['/link/network/hsa05200', '/get/N00001+N00043+N00053']
        assert pc.name == 'hsa05200'
        assert [p.identifier for p in pc] == [f'KEGG_NETWORK:{n}' for n in NETWORK_IDS]
        assert pc['EGF-EGFR-RAS-ERK signaling pathway'].genes[:3] == ('EGF', 'EGFR', 'GRB2')
        assert (tmp_path / 'kegg/get/N00043.txt').read_text() == fixture_text('N00043.txt')
        # second call, new client on the same cache: no request at all
        again = KeggClient(url, cache_dir=tmp_path).pathway_collection('hsa05200', name='cancer')
        assert len(requests) == 2 and again.name == 'cancer'
        assert again.to_dict() == pc.to_dict()
        # refresh downloads again
        client.pathway_collection('hsa05200', refresh=True)
        assert len(requests) == 4


def test_client_fetches_only_missing_entries(tmp_path):
    with kegg_server() as (url, requests):
        client = KeggClient(url, cache_dir=tmp_path)
        assert client.network('ne:N00043').entry == 'N00043'
        nets = client.networks(NETWORK_IDS + ['N00043'])
        assert [n.entry for n in nets] == NETWORK_IDS + ['N00043']
        assert requests == ['/get/N00043', '/get/N00001+N00053']
        assert client.n_requests == 2


def test_client_batches_ten_entries_per_request(tmp_path, monkeypatch):
    monkeypatch.setattr(KeggClient, 'max_batch', 2)
    with kegg_server() as (url, requests):
        KeggClient(url, cache_dir=tmp_path).networks(NETWORK_IDS)
    assert requests == ['/get/N00001+N00043', '/get/N00053']


def test_client_type_filter(tmp_path):
    with kegg_server() as (url, _):
        client = KeggClient(url, cache_dir=tmp_path)
        assert len(client.pathway_collection('hsa05200', types=['Reference'])) == 3
        with pytest.raises(KeggError, match="types found: \\['Reference'\\]"):
            client.pathway_collection('hsa05200', types=['Variant'])


def test_client_honours_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('SURVCONVMIXER_DATA', str(tmp_path / 'env'))
    assert data_dir() == tmp_path / 'env'
    assert data_dir(tmp_path / 'arg') == tmp_path / 'arg'
    with kegg_server() as (url, requests):
        client = KeggClient(url)
        assert client.cache_dir == tmp_path / 'env' / 'kegg'
        client.network('N00001')
        assert (tmp_path / 'env/kegg/get/N00001.txt').exists()
        KeggClient(url).network('N00001')
        assert len(requests) == 1


def test_default_cache_dir_is_user_cache(tmp_path, monkeypatch):
    monkeypatch.delenv('SURVCONVMIXER_DATA', raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    monkeypatch.setenv('LOCALAPPDATA', str(tmp_path / 'xdg'))
    d = data_dir()
    assert d.name == 'survconvmixer'
    import sys
    if sys.platform != 'darwin': assert d == tmp_path / 'xdg' / 'survconvmixer'


def test_client_retries_server_errors(tmp_path):
    with kegg_server(fail_first=2) as (url, requests):
        net = KeggClient(url, cache_dir=tmp_path, retries=2, backoff=0).network('N00001')
    assert net.entry == 'N00001' and len(requests) == 3
    with kegg_server(fail_first=5) as (url, requests):
        with pytest.raises(KeggError, match=r'after 2 attempt\(s\).*HTTP 503'):
            KeggClient(url, cache_dir=tmp_path / 'other', retries=1, backoff=0).network('N00001')
    assert len(requests) == 2
    assert not (tmp_path / 'other/kegg/get/N00001.txt').exists()


def test_client_timeout_and_unreachable(tmp_path):
    with kegg_server(delay=1.5) as (url, _):
        with pytest.raises(KeggError, match=r'after 1 attempt\(s\) with a 0.2s timeout'):
            KeggClient(url, cache_dir=tmp_path, timeout=0.2, retries=0).network('N00001')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); dead = f'http://127.0.0.1:{s.getsockname()[1]}'
    with pytest.raises(KeggError, match=str(tmp_path)):
        KeggClient(dead, cache_dir=tmp_path, timeout=2, retries=1, backoff=0).network('N00001')


def test_client_not_found_is_not_retried(tmp_path):
    with kegg_server() as (url, requests):
        client = KeggClient(url, cache_dir=tmp_path, retries=3, backoff=0)
        with pytest.raises(KeggError, match='404'):
            client.network('N09999')
        assert len(requests) == 1
        with pytest.raises(KeggError, match='404'):
            client.link_networks('hsa99999')
        with pytest.raises(ValueError, match='not a KEGG NETWORK identifier'):
            client.network('hsa05200')
        with pytest.raises(ValueError, match='not a KEGG REST operation'):
            client.cache_path('get/../../etc')


def test_client_partial_multi_get_is_an_error(tmp_path):
    # the server answers with what it has (like KEGG does for a multi-entry get): the missing id is named
    with kegg_server() as (url, _):
        with pytest.raises(KeggError, match=r"no entry for \['N00002'\]"):
            KeggClient(url, cache_dir=tmp_path).networks(['N00001', 'N00002'])


def test_client_rejects_unexpected_link_answers(tmp_path):
    answers = {'/link/network/hsa05200': '<html>maintenance</html>\n', '/link/network/hsa00010': '\n'}
    with kegg_server(answers=answers) as (url, requests):
        client = KeggClient(url, cache_dir=tmp_path)
        with pytest.raises(KeggError, match='unexpected answer.*line 1'):
            client.link_networks('hsa05200')
        assert not client.cache_path('link/network/hsa05200').exists()  # a garbled answer is not cached
        with pytest.raises(KeggError, match="no network elements to 'hsa00010'"):
            client.pathway_collection('hsa00010')
        assert not client.cache_path('link/network/hsa00010').exists()


def test_corrupt_cache_file_is_named(tmp_path):
    with kegg_server() as (url, requests):
        client = KeggClient(url, cache_dir=tmp_path)
        client.network('N00001')
        client.cache_path('get/N00001').write_text('<html>half a download')
        with pytest.raises(KeggError, match=r'N00001.txt is not a valid NETWORK entry.*refresh=True'):
            client.network('N00001')
        assert client.network('N00001', refresh=True).entry == 'N00001' and len(requests) == 2
