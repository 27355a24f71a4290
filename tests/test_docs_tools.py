"""Tests of scripts/check_docs.py, the docs check that stands in for Quarto (see .ci/docs)."""
import base64
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location('check_docs', ROOT / 'scripts' / 'check_docs.py')
cd = importlib.util.module_from_spec(_spec)
sys.modules['check_docs'] = cd
_spec.loader.exec_module(cd)

# a 1x1 PNG
PNG = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==')
PNG64 = base64.b64encode(PNG).decode()
KERNEL = {'kernelspec': {'name': 'python3', 'language': 'python', 'display_name': 'Python 3'}}


def _nb(*cells):
    return json.loads(nbformat.writes(new_notebook(cells=list(cells))))


# ---- outputs: tracebacks and figures printed as text ----------------------------------------------------

def test_output_problems_clean_notebook():
    nb = _nb(new_markdown_cell('# T'), new_code_cell('1+1', outputs=[new_output('execute_result', {'text/plain': '2'})]),
             new_code_cell('plt.plot()', outputs=[new_output('display_data', {
                 'image/png': PNG64, 'text/plain': '<Figure size 640x480 with 1 Axes>'})]))
    assert cd.output_problems(nb) == []


def test_output_problems_finds_errors_and_tracebacks():
    nb = _nb(new_code_cell('x', outputs=[new_output('error', ename='NameError', evalue="name 'x' is not defined",
                                                    traceback=[])]),
             new_code_cell('f()', outputs=[new_output('stream', name='stderr',
                                                      text='Traceback (most recent call last):\n  File "a.py"\n')]),
             new_code_cell('g()', outputs=[new_output('execute_result',
                                                      {'text/plain': 'Traceback (most recent call last):\n...'})]))
    probs = cd.output_problems(nb)
    assert len(probs) == 3, probs
    assert probs[0] == "cell 0: error output NameError: name 'x' is not defined"
    assert probs[1].startswith('cell 1: traceback') and probs[2].startswith('cell 2: traceback')


def test_output_problems_figure_printed_as_text():
    nb = _nb(new_code_cell('plt.plot()', outputs=[new_output('execute_result',
                                                             {'text/plain': '<Figure size 640x480 with 2 Axes>'})]))
    (p,) = cd.output_problems(nb)
    assert p.startswith('cell 0: matplotlib figure printed as text')


# ---- images -------------------------------------------------------------------------------------------

def test_markdown_image_refs():
    src = 'a ![fig](img/a.png) b ![x]( <b c.png> "t") <img width=3 src="d.svg"> ![e](https://x.org/e.png)'
    assert cd.markdown_image_refs(src) == ['img/a.png', 'b c.png', 'https://x.org/e.png', 'd.svg']


def test_missing_markdown_images(tmp_path):
    (tmp_path / 'img').mkdir()
    (tmp_path / 'img' / 'ok.png').write_bytes(PNG)
    md = new_markdown_cell('![a](img/ok.png) ![b](img/missing.png) ![c](https://example.org/c.png) ![d]()'
                           ' ![e](attachment:e.png) ![f](attachment:f.png)')
    md['attachments'] = {'e.png': {'image/png': PNG64}}
    probs = cd.missing_markdown_images(_nb(new_markdown_cell('text'), md), tmp_path)
    assert probs == ["cell 1: markdown image 'img/missing.png' not found", 'cell 1: markdown image with an empty source',
                     "cell 1: markdown image refers to a missing attachment 'attachment:f.png'"]


def test_html_img_srcs():
    assert cd.html_img_srcs('<p><img src="a&amp;b.png"><IMG alt=x></p>') == ['a&b.png', None]


def test_img_src_problems(tmp_path):
    (tmp_path / 'a.png').write_bytes(PNG)
    srcs = ['a.png', f'data:image/png;base64,{PNG64}', 'https://example.org/x.png',  # fine
            None, '', 'data:image/png;base64,', 'data:image/png;base64,@@@', 'missing.png']
    probs = cd.img_src_problems(srcs, tmp_path)
    assert [p.split()[1] for p in probs] == ['#3', '#4', '#5', '#6', '#7'], probs
    assert 'does not resolve' in probs[-1]


def test_browser_problems():
    def dom(res): return f'<body><pre id="{cd.RESULT_ID}" hidden="">{json.dumps(res).replace(chr(34), "&quot;")}</pre>'
    imgs = [{'i': 0, 'src': 'data:image/png;base64,AA', 'ok': True}, {'i': 1, 'src': 'broken.png', 'ok': False},
            {'i': 2, 'src': 'https://example.org/x.png', 'ok': False}]
    assert cd.browser_problems(dom({'imgs': imgs, 'text': 500})) == [
        "<img> #1 was not displayed by the browser (src 'broken.png')"]
    assert cd.browser_problems(dom({'imgs': [], 'text': 0})) == ['empty page: the browser shows nothing but the title']
    assert 'did not finish loading' in cd.browser_problems('<html><body></body></html>')[0]


# ---- site configuration ---------------------------------------------------------------------------------

def test_sidebar_missing():
    sidebar = {'website': {'sidebar': {'contents': ['index.ipynb', '01_a.ipynb', {
        'section': 'tutorials', 'href': 'tutorials/index.ipynb', 'contents': ['tutorials/t1.ipynb']}]}}}
    nbs = ['index.ipynb', '01_a.ipynb', '02_b.ipynb', 'tutorials/index.ipynb', 'tutorials/t1.ipynb', 'tutorials/t2.ipynb']
    assert cd.sidebar_missing(sidebar, nbs) == ['02_b.ipynb', 'tutorials/t2.ipynb']
    assert cd.sidebar_missing(sidebar, nbs[:2]) == []
    assert cd.sidebar_missing({}, ['a.ipynb']) == ['a.ipynb']


# ---- execution, processing and rendering (a real kernel; Chromium where installed) -----------------------

@pytest.fixture
def figure_nb(tmp_path):
    nb = new_notebook(cells=[
        new_raw_cell('---\ntitle: A figure\ndescription: one plot\n---'),
        new_markdown_cell('Some text about the plot.'),
        new_code_cell('#| echo: false\nimport matplotlib.pyplot as plt'),
        new_code_cell('fig, ax = plt.subplots(figsize=(3, 2)); ax.plot([0, 1], [1, 0]);'),
        new_code_cell('#| notest\nraise RuntimeError("skipped as nbdev_test skips it")'),
        new_code_cell('#| eval: false\nraise RuntimeError("not evaluated")'),
        new_code_cell('open("here.txt").read()'),
    ], metadata=KERNEL)
    (tmp_path / 'here.txt').write_text('cwd is the notebook folder')
    nbformat.write(nb, tmp_path / 'fig.ipynb')
    return tmp_path / 'fig.ipynb'


def test_execute_process_and_render(figure_nb, tmp_path, monkeypatch):
    monkeypatch.setenv('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    assert cd.skipped_cells(figure_nb, {'notest', 'slow'}) == {4, 5}
    ran = tmp_path / 'executed' / 'fig.ipynb'
    assert cd.execute_notebook(figure_nb, ran, {'notest', 'slow'}, timeout=120) == []
    nb = json.loads(ran.read_text())
    assert cd.output_problems(nb) == []
    assert any('image/png' in o.get('data', {}) for o in nb['cells'][3]['outputs'])
    assert 'cwd is the notebook folder' in json.dumps(nb['cells'][6]['outputs'])

    proc = tmp_path / '_proc' / 'fig.ipynb'
    assert cd.process_notebook(ran, proc, ROOT) is None
    page = tmp_path / 'pages' / 'fig.html'
    body = cd.render_html(proc, page, figure_nb.parent)
    assert '<h1' in body and 'A figure' in body and 'one plot' in body
    assert 'import matplotlib' not in body  # echo: false
    srcs = cd.html_img_srcs(body)
    assert len(srcs) == 1 and srcs[0].startswith('data:image/png;base64,')
    assert cd.img_src_problems(srcs, page.parent) == []

    chromium = shutil.which('chromium')
    if chromium is None: pytest.skip('chromium is not installed (.ci/docs installs it)')
    png = tmp_path / 'fig.png'
    assert cd.browse(chromium, page, png) == []
    assert png.stat().st_size > 1000
    # the same page with its figure's data broken, then with nothing but its title: both fail
    broken = tmp_path / 'pages' / 'broken.html'
    broken.write_text(page.read_text().replace(srcs[0], 'data:image/png;base64,' + base64.b64encode(b'not a png').decode()))
    (p,) = cd.browse(chromium, broken, tmp_path / 'broken.png')
    assert 'not displayed by the browser' in p
    empty_nb = tmp_path / 'empty.ipynb'
    nbformat.write(new_notebook(cells=[new_raw_cell('---\ntitle: Empty\n---'), new_markdown_cell('<!-- a comment -->')]),
                   empty_nb)
    cd.render_html(empty_nb, tmp_path / 'pages' / 'empty.html', tmp_path)
    assert cd.browse(chromium, tmp_path / 'pages' / 'empty.html', tmp_path / 'empty.png') == [
        'empty page: the browser shows nothing but the title']


def test_execution_and_processing_failures(tmp_path):
    nb = new_notebook(cells=[new_code_cell('x = 1'), new_code_cell('1/0'), new_code_cell('y = 2')], metadata=KERNEL)
    nbformat.write(nb, tmp_path / 'bad.ipynb')
    (p,) = cd.execute_notebook(tmp_path / 'bad.ipynb', tmp_path / 'out.ipynb', set(), timeout=60)
    assert p.startswith('execution stopped: CellExecutionError') and 'ZeroDivisionError' in p
    (err,) = cd.output_problems(json.loads((tmp_path / 'out.ipynb').read_text()))
    assert err == 'cell 1: error output ZeroDivisionError: division by zero'
    # nbdev runs show_doc cells while processing: an undefined name there fails the page (and nbdev_docs)
    nbformat.write(new_notebook(cells=[new_code_cell('#| echo: false\nshow_doc(undefined_fn)')], metadata=KERNEL),
                   tmp_path / 'proc_bad.ipynb')
    msg = cd.process_notebook(tmp_path / 'proc_bad.ipynb', tmp_path / '_proc' / 'proc_bad.ipynb', ROOT)
    assert msg and "NameError: name 'undefined_fn' is not defined" in msg
