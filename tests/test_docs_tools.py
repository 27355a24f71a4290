"""Tests of scripts/check_docs.py, the docs check that stands in for Quarto (see .ci/docs)."""
import base64
import importlib.util
import json
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


def _nb(*cells):
    return json.loads(nbformat.writes(new_notebook(cells=list(cells))))


# ---- outputs ------------------------------------------------------------------------------------------

def test_output_problems_clean_notebook():
    nb = _nb(new_markdown_cell('# T'), new_code_cell('1+1', outputs=[new_output('execute_result', {'text/plain': '2'})]),
             new_code_cell('plt.plot()', outputs=[new_output('display_data', {'image/png': PNG64,
                                                                              'text/plain': '<Figure size 640x480 with 1 Axes>'})]))
    assert cd.output_problems(nb) == []


def test_output_problems_finds_errors_and_tracebacks():
    nb = _nb(new_code_cell('x', outputs=[new_output('error', ename='NameError', evalue="name 'x' is not defined",
                                                    traceback=[])]),
             new_code_cell('f()', outputs=[new_output('stream', name='stderr',
                                                      text='Traceback (most recent call last):\n  File "a.py"\nValueError\n')]),
             new_code_cell('g()', outputs=[new_output('execute_result',
                                                      {'text/plain': 'Traceback (most recent call last):\n...'})]))
    probs = cd.output_problems(nb)
    assert len(probs) == 3
    assert 'cell 0' in probs[0] and 'NameError' in probs[0] and "'x' is not defined" in probs[0]
    assert 'cell 1' in probs[1] and 'traceback' in probs[1]
    assert 'cell 2' in probs[2]


def test_output_problems_figure_without_image():
    nb = _nb(new_code_cell('plt.plot()', outputs=[new_output('execute_result',
                                                             {'text/plain': '<Figure size 640x480 with 2 Axes>'})]))
    (p,) = cd.output_problems(nb)
    assert 'no image' in p and 'cell 0' in p


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
    probs = cd.missing_markdown_images(_nb(md), tmp_path)
    assert len(probs) == 3, probs
    assert "'img/missing.png' not found" in probs[0]
    assert 'empty source' in probs[1]
    assert 'f.png' in probs[2]


def test_img_src_problems(tmp_path):
    (tmp_path / 'a.png').write_bytes(PNG)
    srcs = ['a.png', f'data:image/png;base64,{PNG64}', 'https://example.org/x.png',  # fine
            None, '', 'data:image/png;base64,', 'missing.png']
    probs = cd.img_src_problems(srcs, tmp_path)
    assert [p.split()[1] for p in probs] == ['#3', '#4', '#5', '#6']


def test_html_img_srcs():
    assert cd.html_img_srcs('<p><img src="a&amp;b.png"><IMG alt=x></p>') == ['a&b.png', None]


def test_browser_problems():
    res = {'imgs': [{'i': 0, 'src': 'data:image/png;base64,AA', 'ok': True},
                    {'i': 1, 'src': 'broken.png', 'ok': False},
                    {'i': 2, 'src': 'https://example.org/x.png', 'ok': False}], 'text': 500}
    dom = f'<html><body><p>x</p><pre id="{cd.CHECK_RESULT_ID}" style="display: none;">{json.dumps(res).replace(chr(34), "&quot;")}</pre></body></html>'
    probs, parsed = cd.browser_problems(dom)
    assert parsed['text'] == 500
    assert len(probs) == 1 and 'broken.png' in probs[0]
    probs, parsed = cd.browser_problems('<html><body></body></html>')
    assert parsed == {} and 'did not finish loading' in probs[0]


# ---- site configuration, names, notebooks as nbdev reads them -------------------------------------------

def test_sidebar_missing():
    sidebar = {'website': {'sidebar': {'contents': ['index.ipynb', '01_a.ipynb', {
        'section': 'tutorials', 'href': 'tutorials/index.ipynb', 'contents': ['tutorials/t1.ipynb']}]}}}
    nbs = ['index.ipynb', '01_a.ipynb', '02_b.ipynb', 'tutorials/index.ipynb', 'tutorials/t1.ipynb', 'tutorials/t2.ipynb']
    assert cd.sidebar_missing(sidebar, nbs) == ['02_b.ipynb', 'tutorials/t2.ipynb']
    assert cd.sidebar_missing(sidebar, nbs[:2]) == []


def test_quarto_options_and_directives():
    src = '#| echo: false\n#| output: asis\n#|export\nshow_doc(f)\n#| not: a directive'
    assert cd.quarto_options(src) == {'echo': 'false', 'output': 'asis'}
    assert cd.strip_directives(src) == 'show_doc(f)\n#| not: a directive'
    assert cd.quarto_options('x = 1\n#| echo: false') == {}


def test_match_names():
    stems = ['00_index', '01_data', '01a_pathways', '02_images', 'tutorials/10_intro']
    assert cd.match_names(stems, ['02_images']) == ['02_images']
    assert cd.match_names(stems, ['pathways', 'index.ipynb', 'nbs/01_data.ipynb']) == ['00_index', '01_data', '01a_pathways']
    assert cd.match_names(stems, ['01*']) == ['01_data', '01a_pathways']
    assert cd.match_names(stems, ['intro']) == ['tutorials/10_intro']
    assert cd.match_names(stems, ['01', '2']) == ['01_data']
    assert cd.match_names(stems, ['nothing']) == []
    assert cd.split_names(['a,b', 'c d']) == ['a', 'b', 'c', 'd']


def test_frontmatter_in_markdown_cell():
    bad = _nb(new_markdown_cell('---\ntitle: x\naliases: ["/index.html"]\n---'), new_markdown_cell('text'))
    (p,) = cd.frontmatter_problems(bad)
    assert 'cell 0' in p and 'raw cell' in p
    good = _nb(new_raw_cell('---\ntitle: x\n---'), new_markdown_cell('---\n\nA rule above.'))
    assert cd.frontmatter_problems(good) == []


def test_title_cell_dropped_lines():
    nb = _nb(new_markdown_cell('# Title\n\n> A description that goes\n> on for two lines.\n\n- skip_exec: true'))
    assert cd.title_cell_dropped_lines(nb) == ['> on for two lines.']
    assert cd.title_cell_dropped_lines(_nb(new_markdown_cell('# Title\n> One line.'))) == []
    assert cd.title_cell_dropped_lines(_nb(new_raw_cell('---\ntitle: T\n---'), new_markdown_cell('# A\nsome text'))) == []


def test_explain_proc_error():
    msg = ("Exception: Error in notebook: Demo in cell 21 :\nfrom a import b\n_d = b(demo)"
           " <- NameError: name 'demo' is not defined")
    e = cd.explain_proc_error(msg)
    assert 'cell 21' in e and "NameError: name 'demo'" in e and 'imports' in e
    e = cd.explain_proc_error("Exception: Error in cell 3 :\nshow_doc(f) <- NameError: name 'f' is not defined")
    assert 'cell 3' in e and 'imports' not in e
    assert cd.explain_proc_error('OSError: boom').endswith('OSError: boom')


# ---- execution and rendering (a real kernel; Chromium where installed) -----------------------------------

@pytest.fixture
def figure_nb(tmp_path):
    nb = new_notebook(cells=[
        new_raw_cell('---\ntitle: A figure\ndescription: one plot\n---'),
        new_markdown_cell('Some text about the plot, long enough to count as content.'),
        new_code_cell('#| echo: false\nimport matplotlib.pyplot as plt'),
        new_code_cell('fig, ax = plt.subplots(figsize=(3, 2)); ax.plot([0, 1], [1, 0]);'),
        new_code_cell('#| notest\nraise RuntimeError("skipped like nbdev_test skips it")'),
        new_code_cell('open("here.txt").read()'),
    ], metadata={'kernelspec': {'name': 'python3', 'language': 'python', 'display_name': 'Python 3'}})
    (tmp_path / 'here.txt').write_text('cwd is the notebook folder')
    p = tmp_path / 'fig.ipynb'
    nbformat.write(nb, p)
    return p


def test_execute_and_render(figure_nb, tmp_path, monkeypatch):
    monkeypatch.setenv('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    out = tmp_path / 'out' / 'fig.ipynb'
    probs, notes = cd.execute_notebook(figure_nb, out, timeout=120, flags={'notest', 'slow'})
    assert probs == [] and notes == ['1 cell(s) skipped as nbdev_test does']
    nb = json.loads(out.read_text())
    assert cd.output_problems(nb) == []
    assert any('image/png' in o.get('data', {}) for o in nb['cells'][3]['outputs'])
    assert 'cwd is the notebook folder' in json.dumps(nb['cells'][5]['outputs'])
    page = cd.Page('fig', figure_nb)
    html_path = tmp_path / 'pages' / 'fig.html'
    body = cd.render_html(out, html_path, page)
    assert body and page.title == 'A figure' and page.n_figures == 1
    assert 'import matplotlib' not in body  # echo: false
    assert 'data:image/png;base64,' in body
    assert cd.img_src_problems(cd.html_img_srcs(body.split(cd._CHECK_SCRIPT)[0]), html_path.parent) == []

    chromium = cd.find_chromium(None)
    if chromium is None: pytest.skip('chromium is not installed (.ci/docs installs it)')
    png, dom = tmp_path / 'fig.png', tmp_path / 'fig.dom.html'
    probs, res = cd.browse(chromium, html_path, png, dom)
    assert probs == [], probs
    assert png.stat().st_size > 1000 and [im['ok'] for im in res['imgs']] == [True]
    # the same page with its figure's data broken: the browser cannot show it and the check says so
    broken = tmp_path / 'pages' / 'broken.html'
    (fig_src,) = cd.html_img_srcs(body.split(cd._CHECK_SCRIPT)[0])
    broken.write_text(html_path.read_text().replace(fig_src, 'data:image/png;base64,' + base64.b64encode(b'not an image').decode()))
    probs, _ = cd.browse(chromium, broken, tmp_path / 'b.png', tmp_path / 'b.dom.html')
    assert len(probs) == 1 and 'not displayed by the browser' in probs[0]


def test_execute_reports_the_failing_cell(tmp_path):
    nb = new_notebook(cells=[new_code_cell('x = 1'), new_code_cell('1/0'), new_code_cell('y = 2')],
                      metadata={'kernelspec': {'name': 'python3', 'language': 'python', 'display_name': 'Python 3'}})
    p = tmp_path / 'bad.ipynb'
    nbformat.write(nb, p)
    probs, _ = cd.execute_notebook(p, tmp_path / 'out.ipynb', timeout=60, flags=set())
    assert probs == ['execution stopped at cell 1']
    (err,) = cd.output_problems(json.loads((tmp_path / 'out.ipynb').read_text()))
    assert err.startswith('cell 1: error output ZeroDivisionError')
