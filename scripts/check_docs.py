#!/usr/bin/env python
"""Check the documentation site without Quarto.

`nbdev_docs` builds the site with Quarto, which cannot be installed on machines without general internet
access. This script checks what Quarto would be given, and what a reader would see, with nbdev's own pieces
and a headless browser instead:

1. the site configuration: `refresh_quarto_yml()`, `_build_modidx()` and `nbdev_sidebar` (what `nbdev_docs`
   runs before Quarto), then `_quarto.yml`, `nbs/nbdev.yml` and `nbs/sidebar.yml` must parse as YAML and
   the sidebar must list every notebook;
2. each notebook is executed with nbclient (kernel `python3` of this environment, working directory = the
   notebook's folder; cells flagged with `tst_flags` from settings.ini, `#| eval: false` and notebooks with
   `skip_exec` are skipped exactly as `nbdev_test` skips them);
3. the executed notebook is processed with nbdev's docs processors (`nbdev.processors.FilterDefaults`, the
   ones `nbdev.serve.proc_nbs` applies; output in `_proc/`). Processing removes the exported and hidden cells,
   so a processed notebook cannot itself be executed: the source notebook is executed first, as a person
   would before committing it with outputs;
4. the processed notebook is rendered to a self-contained HTML page (nbconvert, images embedded as data
   URIs; Quarto's `echo`/`output`/`include` cell options honoured), opened in headless Chromium, its DOM
   dumped and a screenshot taken.

A page FAILS when a cell output holds a Python traceback (an `error` output or the text
'Traceback (most recent call last)'), a notebook could not be executed, nbdev could not process it (nbdev
runs the exported cells, the imports and every cell that mixes an import with other code while processing,
so `nbdev_docs` fails on it too), a figure is missing (an `<img>` with an empty or unresolvable source, one
the browser could not decode, a markdown image reference to a missing file, or a matplotlib figure printed as
text because no image was produced), YAML front matter sits in a markdown cell (nbdev and Quarto ignore it
there), or the page is empty (nothing but its title). A WARN line names title-cell lines that nbdev drops
(it keeps one '> ' description line). Pages, screenshots (1280x2000, and the whole page in NAME_full.png),
the dumped DOMs, the executed notebooks and an `index.html` are written to `--out` (default `docs_check/`).
Exit status 1 when any page or the site configuration fails.

Usage: `python scripts/check_docs.py [--only NAME ...] [--skip NAME ...] [--no-execute | --executed DIR]`.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import fnmatch
import html
import json
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

TRACEBACK_MARK = 'Traceback (most recent call last)'
FIGURE_REPR_RE = re.compile(r'<(?:Figure|matplotlib\.figure\.Figure) size \d+(?:\.\d+)?x\d+(?:\.\d+)? with \d+ Axes>')
MD_IMAGE_RE = re.compile(r'!\[[^\]]*\]\(\s*(?:<([^>]*)>|([^)\s]*))(?:\s+["\'][^)]*["\'])?\s*\)')
HTML_IMG_SRC_RE = re.compile(r'<img\b[^>]*?\bsrc\s*=\s*(["\'])(.*?)\1', re.I | re.S)
QUARTO_OPT_RE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
DIRECTIVE_LINE_RE = re.compile(r'^\s*#\s*\|')
QUARTO_ATTR_RE = re.compile(r'(?<=\))\{(?:target|style|\.)[^}\n]*\}')
ANSI_RE = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
CHECK_RESULT_ID = 'docs-check-result'
MAX_FULL_HEIGHT = 16000  # pixels of the whole-page screenshot
MIN_BODY_CHARS = 20  # visible characters beyond the title for a page not to count as empty
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars', '--host-resolver-rules=MAP * ~NOTFOUND']


# ---------------------------------------------------------------------------------------------------------
# Pure checks (no nbdev, kernel or browser needed; unit-tested in tests/test_docs_tools.py)

def _text(x) -> str:
    "Notebook text fields are strings or lists of strings."
    return ''.join(x) if isinstance(x, list) else (x or '')


def output_problems(nb: dict) -> list[str]:
    "Tracebacks, error outputs and figures without an image in the code-cell outputs of notebook `nb`."
    probs = []
    for i, cell in enumerate(nb.get('cells', [])):
        if cell.get('cell_type') != 'code': continue
        for out in cell.get('outputs', []):
            kind = out.get('output_type')
            if kind == 'error':
                evalue = ANSI_RE.sub('', _text(out.get('evalue', ''))).strip().splitlines()
                probs.append(f"cell {i}: error output {out.get('ename', '?')}: {evalue[0] if evalue else ''}"[:300])
                continue
            if kind == 'stream': texts, data = [_text(out.get('text'))], {}
            else:
                data = out.get('data', {}) or {}
                texts = [_text(v) for k, v in data.items() if k.startswith('text/')]
            if any(TRACEBACK_MARK in t for t in texts):
                probs.append(f"cell {i}: a Python traceback is printed in a {kind} output")
            has_image = any(k.startswith('image/') for k in data)
            if not has_image and any(FIGURE_REPR_RE.search(t) for t in texts):
                probs.append(f"cell {i}: a matplotlib figure was printed as text but no image was produced "
                             f"(is MPLBACKEND set to a non-inline backend?)")
            for k, v in data.items():
                if k.startswith('image/') and not _text(v).strip():
                    probs.append(f"cell {i}: empty {k} output")
    return probs


def frontmatter_problems(nb: dict) -> list[str]:
    "YAML front matter written in a markdown cell: Quarto and nbdev read it only from a raw cell."
    probs = []
    for i, cell in enumerate(nb.get('cells', [])):
        src = _text(cell.get('source')).strip()
        if cell.get('cell_type') == 'markdown' and re.match(r'---\s*\n(?:.*\n)*?\s*[\w-]+\s*:.*\n(?:.*\n)*?---\s*$', src + '\n'):
            probs.append(f"cell {i}: YAML front matter in a markdown cell is shown as text and ignored "
                         f"(nbdev then takes the first '# ' line of the notebook as the title): make it a raw cell")
    return probs


def title_cell_dropped_lines(nb: dict) -> list[str]:
    """Lines of the markdown title cell that nbdev drops. Without raw front matter, nbdev takes the first
    markdown cell with a `# ` line as the title cell: it keeps the title, the first `> ` line as the
    description and `- key: value` lines, and removes the rest of the cell from the page."""
    for cell in nb.get('cells', []):
        src = _text(cell.get('source'))
        if cell.get('cell_type') == 'raw' and re.match(r'\s*---.*\btitle\s*:', src, re.S): return []
        if cell.get('cell_type') != 'markdown' or not re.search(r'^#\s+\S', src, re.M): continue
        kept_desc, dropped = False, []
        title_seen = False
        for line in src.splitlines():
            if not line.strip(): continue
            if not title_seen and re.match(r'^#\s+\S', line): title_seen = True; continue
            if not kept_desc and re.match(r'^>\s+\S', line): kept_desc = True; continue
            if re.match(r'^-\s+\S.*:.*\S\s*$', line): continue
            dropped.append(line.strip())
        return dropped
    return []


def _is_remote(src: str) -> bool:
    return urlparse(src).scheme in ('http', 'https', 'ftp') or src.startswith('//')


def _local_path(src: str, base: Path) -> Path:
    "The file a relative or file: image source points to, seen from folder `base`."
    u = urlparse(src)
    p = unquote(u.path)
    return Path(p) if (u.scheme == 'file' or p.startswith('/')) else base / p


def markdown_image_refs(src: str) -> list[str]:
    "Image sources referenced in markdown text `src`, both `![alt](src)` and `<img src=...>`."
    md = [m.group(1) if m.group(1) is not None else m.group(2) for m in MD_IMAGE_RE.finditer(src)]
    return md + [m.group(2) for m in HTML_IMG_SRC_RE.finditer(src)]


def missing_markdown_images(nb: dict, base: Path) -> list[str]:
    "Markdown image references in `nb` that are empty or point to a file missing relative to `base`."
    probs = []
    for i, cell in enumerate(nb.get('cells', [])):
        if cell.get('cell_type') != 'markdown': continue
        attachments = cell.get('attachments', {}) or {}
        for src in markdown_image_refs(_text(cell.get('source'))):
            if not src.strip(): probs.append(f"cell {i}: markdown image with an empty source")
            elif src.startswith('attachment:'):
                if src[len('attachment:'):] not in attachments:
                    probs.append(f"cell {i}: markdown image refers to a missing attachment {src!r}")
            elif src.startswith('data:') or _is_remote(src): continue
            elif not _local_path(src, base).is_file():
                probs.append(f"cell {i}: markdown image {src!r} not found (looked for {_local_path(src, base)})")
    return probs


class _ImgParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.srcs: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag == 'img': self.srcs.append(dict(attrs).get('src'))


def html_img_srcs(page: str) -> list[str | None]:
    "The `src` of every `<img>` of HTML text `page` (None where it has none)."
    p = _ImgParser()
    p.feed(page)
    return p.srcs


def _data_uri_ok(src: str) -> bool:
    head, sep, payload = src.partition(',')
    if not sep or not payload.strip(): return False
    if head.endswith(';base64'):
        try: return len(base64.b64decode(payload, validate=False)) > 0
        except (binascii.Error, ValueError): return False
    return True


def img_src_problems(srcs: list[str | None], base: Path) -> list[str]:
    "Image sources that are missing, empty, undecodable or point to a missing file relative to `base`."
    probs = []
    for j, src in enumerate(srcs):
        short = (src or '')[:80]
        if src is None or not src.strip(): probs.append(f"<img> #{j} has an empty or missing src")
        elif src.startswith('data:'):
            if not _data_uri_ok(src): probs.append(f"<img> #{j} has an empty or undecodable data URI {short!r}")
        elif _is_remote(src): continue  # no internet here: remote images are not checked
        elif not _local_path(src, base).is_file(): probs.append(f"<img> #{j} src {short!r} does not resolve")
    return probs


def browser_problems(dom: str) -> tuple[list[str], dict]:
    "Read the result the injected check script left in the dumped DOM: images the browser could not show."
    m = re.search(rf'<pre[^>]*id="{CHECK_RESULT_ID}"[^>]*>(.*?)</pre>', dom, re.S)
    if not m: return ["the browser did not finish loading the page (no check result in the dumped DOM)"], {}
    res = json.loads(html.unescape(m.group(1)))
    probs = [f"<img> #{im['i']} was not displayed by the browser (src {im['src']!r})"
             for im in res.get('imgs', []) if not im['ok'] and not _is_remote(im['src'])]
    return probs, res


def sidebar_entries(node) -> list[str]:
    "Every file named in an nbdev `sidebar.yml` structure (hrefs and contents, recursively)."
    if isinstance(node, str): return [node]
    if isinstance(node, list): return [e for o in node for e in sidebar_entries(o)]
    if isinstance(node, dict):
        out = [node['href']] if isinstance(node.get('href'), str) else []
        for k, v in node.items():
            if k != 'href': out += sidebar_entries(v)
        return out
    return []


def sidebar_missing(sidebar: dict, notebooks: list[str]) -> list[str]:
    "Notebooks (paths relative to nbs/) that the parsed `sidebar.yml` does not list."
    listed = {str(Path(e)) for e in sidebar_entries(sidebar)}
    return [nb for nb in notebooks if str(Path(nb)) not in listed]


def quarto_options(source: str) -> dict[str, str]:
    "Quarto cell options (`#| key: value`) at the top of a code cell."
    opts = {}
    for line in source.splitlines():
        if not line.strip(): continue
        if not DIRECTIVE_LINE_RE.match(line): break
        m = QUARTO_OPT_RE.match(line)
        if m: opts[m.group(1)] = m.group(2).strip('\'"').lower()
    return opts


def strip_directives(source: str) -> str:
    "`source` without its leading `#|` directive lines (Quarto does not show them)."
    lines = source.splitlines(keepends=True)
    k = 0
    while k < len(lines) and (DIRECTIVE_LINE_RE.match(lines[k]) or not lines[k].strip()): k += 1
    return ''.join(lines[k:])


def explain_proc_error(msg: str) -> str:
    """A short explanation of an exception from nbdev's docs processors. nbdev runs only the exported cells,
    the imports and `show_doc` cells while processing (`exec_show_docs`); a cell that mixes an import with
    other code is run too, without the cells before it, so `nbdev_docs` fails on it as well."""
    m = re.match(r'Exception: Error(?: in notebook: .*?)? in cell (\d+) :\n(.*?)(?: <- (.*))?$', msg, re.S)
    if not m: return f"nbdev processing failed: {msg[:400]}"
    idx, src, cause = m.group(1), m.group(2), (m.group(3) or '').strip()
    first = next((l for l in src.splitlines() if l.strip() and not l.lstrip().startswith('#')), '').strip()
    hint = ''
    if re.search(r'^\s*(?:import|from\s+\S+\s+import)\s', src, re.M) and len(src.strip().splitlines()) > 1:
        hint = (" -- the cell mixes imports with other code: nbdev runs every cell that has an import while "
                "building the docs (with only the exported cells and imports before it), so nbdev_docs fails "
                "too; move the imports to a cell of their own")
    return (f"nbdev processing failed (nbdev_docs would fail too) in processed cell {idx} ({first[:70]!r}): "
            f"{cause[:300] or 'error'}{hint}")


def match_names(stems: list[str], patterns: list[str]) -> list[str]:
    "The notebook stems (paths relative to nbs/, no suffix) that `patterns` name (exact, glob, or without number prefix)."
    out = []
    for s in stems:
        name = Path(s).name
        bare = re.sub(r'^\d+[a-z]?_', '', name)
        for p in patterns:
            p = p.removesuffix('.ipynb').removeprefix('nbs/')
            if p in (s, name, bare) or fnmatch.fnmatch(s, p) or fnmatch.fnmatch(name, p) or \
                    (re.fullmatch(r'\d+[a-z]?', p) and name.startswith(p + '_')):
                out.append(s)
                break
    return out


def split_names(values: list[str] | None) -> list[str]:
    return [v for o in (values or []) for v in re.split(r'[,\s]+', o) if v]


# ---------------------------------------------------------------------------------------------------------
# The pipeline

@dataclass
class Page:
    stem: str  # path of the notebook relative to nbs/, without suffix
    src: Path
    title: str = ''
    status: str = 'OK'
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    n_cells: int = 0
    n_figures: int = 0
    html: Path | None = None
    png: Path | None = None

    def fail(self, msg: str):
        self.status = 'FAIL'
        self.problems.append(msg)


def _say(*a):
    print(*a, flush=True)


def check_config(repo: Path, nbs: Path, notebooks: list[str]) -> list[str]:
    "Generate the site configuration as `nbdev_docs` does before calling Quarto, and check it."
    import yaml
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    import nbdev.doclinks
    probs = []
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__(path=str(nbs))
    parsed = {}
    for p in (repo / '_quarto.yml', nbs / '_quarto.yml', nbs / 'nbdev.yml', nbs / 'sidebar.yml'):
        try: parsed[p.name] = yaml.safe_load(p.read_text())
        except FileNotFoundError: probs.append(f"{p.relative_to(repo)} is missing")
        except yaml.YAMLError as e: probs.append(f"{p.relative_to(repo)} does not parse as YAML: {e}")
    q = parsed.get('_quarto.yml')
    if isinstance(q, dict):
        for mf in q.get('metadata-files', []) or []:
            if not (nbs / mf).is_file(): probs.append(f"_quarto.yml metadata-files names {mf}, missing in {nbs.name}/")
        if q.get('project', {}).get('type') != 'website': probs.append("_quarto.yml: project.type is not 'website'")
    elif '_quarto.yml' in parsed: probs.append("_quarto.yml is not a YAML mapping")
    ny = parsed.get('nbdev.yml')
    if isinstance(ny, dict):
        if not (ny.get('website') or {}).get('title'): probs.append("nbdev.yml has no website.title")
    elif 'nbdev.yml' in parsed: probs.append("nbdev.yml is not a YAML mapping")
    sb = parsed.get('sidebar.yml')
    if isinstance(sb, dict):
        contents = ((sb.get('website') or {}).get('sidebar') or {}).get('contents')
        if not contents: probs.append("sidebar.yml has no website.sidebar.contents")
        missing = sidebar_missing(sb, notebooks)
        if missing: probs.append(f"sidebar.yml does not list {', '.join(missing)}")
    elif 'sidebar.yml' in parsed: probs.append("sidebar.yml is not a YAML mapping")
    return probs


def list_notebooks(nbs: Path) -> list[str]:
    "Notebooks of the site, as nbdev_sidebar finds them (relative to nbs/, with suffix)."
    from nbdev.doclinks import nbglob
    files = nbglob(str(nbs), file_re=r'\.ipynb$', skip_folder_re=r'(?:^[_.]|^www\$)', func=Path)
    return sorted(str(Path(f).relative_to(nbs)) for f in files)


def _skip_cells(src: Path, flags: set[str]) -> tuple[bool, set[int]]:
    "Whether nbdev_test skips the whole notebook, and the indices of the code cells it skips."
    import nbformat
    from nbdev.process import NBProcessor, extract_directives
    from nbdev.frontmatter import FrontmatterProc
    from fastcore.basics import str2bool
    fm = getattr(NBProcessor(src, procs=FrontmatterProc, process=True).nb, 'frontmatter_', {}) or {}
    if str2bool(fm.get('skip_exec', False)): return True, set()
    nb = nbformat.read(src, as_version=4)
    skip = set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != 'code': continue
        if 'nbdev_export' + '(' in cell.source: skip.add(i); continue
        d = extract_directives(nbformat.from_dict(dict(cell)), remove=False) or {}
        if (d.get('eval:', [''])[0] or '').lower() == 'false' or flags & set(d): skip.add(i)
    return False, skip


def execute_notebook(src: Path, dst: Path, timeout: int, flags: set[str],
                     log: Path | None = None) -> tuple[list[str], list[str]]:
    "Execute `src` in its folder with nbclient, skipping what nbdev_test skips; write it to `dst` (kernel stderr to `log`)."
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    probs, notes = [], []
    skip_nb, skip = _skip_cells(src, flags)
    nb = nbformat.read(src, as_version=4)
    if skip_nb:
        notes.append('skip_exec: not executed')
        dst.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dst)
        return probs, notes

    class _Client(NotebookClient):
        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            if cell_index in skip: return cell
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

    if skip: notes.append(f'{len(skip)} cell(s) skipped as nbdev_test does')
    client = _Client(nb, timeout=timeout, kernel_name='python3', allow_errors=False,
                     resources={'metadata': {'path': str(src.parent)}})
    if log: log.parent.mkdir(parents=True, exist_ok=True)
    fh = open(log, 'w') if log else None
    try: client.execute(**({'stderr': fh, 'stdout': fh} if fh else {}))
    except CellTimeoutError as e: probs.append(f"execution: a cell ran past {timeout}s: {str(e).splitlines()[0]}")
    except DeadKernelError as e: probs.append(f"execution: the kernel died: {e}")
    except CellExecutionError as e:
        errs = [i for i, c in enumerate(nb.cells) if any(o.get('output_type') == 'error' for o in c.get('outputs', []))]
        lines = [l for l in ANSI_RE.sub('', str(e)).splitlines() if l.strip()]
        probs.append(f"execution stopped at cell {errs[0]}" if errs else
                     f"execution stopped at an error: {lines[-1][:300] if lines else e}")
    except Exception as e: probs.append(f"execution failed: {type(e).__name__}: {e}")
    finally:
        if fh: fh.close()
    for c in nb.cells:
        if c.cell_type == 'code': c.execution_count = None
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)
    return probs, notes


_PROC_WORKER = r'''
import json, sys, os, time
from pathlib import Path
import nbdev.serve_drv
from nbdev.processors import FilterDefaults
jobs = json.loads(Path(sys.argv[1]).read_text())
res = {}
for stem, src, dst in jobs:
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    t = time.time()
    try:
        nbdev.serve_drv.main((Path(src), Path(dst), FilterDefaults))
        res[stem] = [None, time.time() - t]
    except BaseException as e:
        os.environ.pop("IN_TEST", None)
        cause = e.__cause__ or e.__context__
        msg = f"{type(e).__name__}: {e}"
        if cause is not None: msg += f" <- {type(cause).__name__}: {cause}"
        res[stem] = [msg, time.time() - t]
    Path(sys.argv[2]).write_text(json.dumps(res))
'''


def process_notebooks(repo: Path, nbs: Path, jobs: list[tuple[str, Path, Path]],
                      timeout: int) -> dict[str, tuple[str | None, float]]:
    """Run nbdev's docs processors (`FilterDefaults`, as `proc_nbs` does) on each (stem, src, dst) in a
    fresh Python process; also copy the site's other files into `_proc/` as `proc_nbs` does.
    Returns {stem: (error message or None, seconds)}."""
    from nbdev.serve import _proc_file
    from nbdev.doclinks import nbglob
    cache = repo / '_proc'
    others = [Path(f) for f in nbglob(str(nbs), func=Path, file_glob='', file_re='')] + \
             [nbs / n for n in ('_quarto.yml', '_brand.yml') if (nbs / n).exists()]
    for f in others:
        if f.suffix != '.ipynb': _proc_file(f, cache, nbs)  # copies non-notebook files
    if not jobs: return {}
    with tempfile.TemporaryDirectory() as td:
        jf, rf = Path(td) / 'jobs.json', Path(td) / 'res.json'
        jf.write_text(json.dumps([(s, str(a), str(b)) for s, a, b in jobs]))
        try:
            r = subprocess.run([sys.executable, '-c', _PROC_WORKER, str(jf), str(rf)], cwd=repo,
                               capture_output=True, text=True, timeout=timeout)
            done = json.loads(rf.read_text()) if rf.exists() else {}
            err = (r.stderr.strip().splitlines() or [f'exit status {r.returncode}'])[-1]
        except subprocess.TimeoutExpired:
            done, err = (json.loads(rf.read_text()) if rf.exists() else {}), f'timed out after {timeout}s'
    return {s: tuple(done[s]) if s in done else (f"processing did not finish: {err}", 0.0) for s, _, _ in jobs}


def _read_nb(path: Path):
    "Read a notebook quietly (execnb writes nbformat 4.5 notebooks without cell ids) and give cells ids."
    import warnings, nbformat
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        nb = nbformat.read(path, as_version=4)
    for i, c in enumerate(nb.cells):
        if 'id' not in c: c['id'] = f'docs-check-{i}'
    return nb


def _frontmatter(nb) -> dict:
    import yaml
    if nb.cells and nb.cells[0].cell_type == 'raw':
        s = nb.cells[0].source.strip()
        if s.startswith('---'):
            try: return yaml.safe_load(s.strip('-\n')) or {}
            except yaml.YAMLError: return {}
    return {}


def _embed_local_imgs(page: str, base: Path) -> str:
    "Replace relative/file: `<img>` sources that exist under `base` by data URIs, so the page stands alone."
    def rep(m):
        q, src = m.group(1), m.group(2)
        if not src or src.startswith('data:') or _is_remote(src): return m.group(0)
        p = _local_path(html.unescape(src), base)
        if not p.is_file(): return m.group(0)
        mime = mimetypes.guess_type(p.name)[0] or 'application/octet-stream'
        uri = f"data:{mime};base64,{base64.b64encode(p.read_bytes()).decode()}"
        return m.group(0).replace(f'{q}{src}{q}', f'{q}{uri}{q}')
    return HTML_IMG_SRC_RE.sub(rep, page)


_CHECK_SCRIPT = f'''<script>
window.addEventListener('load', function () {{
  var imgs = [];
  document.querySelectorAll('img').forEach(function (im, i) {{
    imgs.push({{i: i, src: (im.getAttribute('src') || '').slice(0, 100),
               ok: im.complete && im.naturalWidth > 0, w: im.naturalWidth, h: im.naturalHeight}});
  }});
  var main = document.querySelector('main') || document.body;
  var pre = document.createElement('pre');
  pre.id = '{CHECK_RESULT_ID}'; pre.style.display = 'none';
  pre.textContent = JSON.stringify({{imgs: imgs, text: (main.innerText || '').trim().length,
                                    height: document.documentElement.scrollHeight}});
  document.body.appendChild(pre);
}});
</script>
'''


def render_html(proc_nb: Path, out_html: Path, page: Page) -> str:
    "Render a processed notebook as Quarto would show it (title block, cell options) to standalone HTML."
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    nb = _read_nb(proc_nb)
    fm = _frontmatter(nb)
    page.title = str(fm.get('title') or page.stem)
    cells = []
    for c in nb.cells[1:] if fm else nb.cells:
        if c.cell_type == 'code':
            opts = quarto_options(c.source)
            if opts.get('include') == 'false': continue
            tags = set(c.metadata.get('tags', []))
            if opts.get('echo') == 'false': tags.add('docs_remove_input')
            if opts.get('output') == 'false': tags.add('docs_remove_output')
            c.metadata['tags'] = sorted(tags)
            c.source = strip_directives(c.source)
            if not c.source.strip() and 'docs_remove_input' not in tags: tags.add('docs_remove_input')
        cells.append(c)
    head = f"# {page.title}\n" + (f"\n> {fm['description']}\n" if fm.get('description') else '')
    nb.cells = [nbformat.v4.new_markdown_cell(head)] + cells
    page.n_cells = len(cells)
    page.n_figures = sum(1 for c in cells if c.cell_type == 'code' for o in c.get('outputs', [])
                         if any(k.startswith('image/') for k in (o.get('data') or {})))
    for i, c in enumerate(nb.cells):
        if 'id' not in c: c['id'] = f'docs-check-{i}'
        for o in c.get('outputs', []):  # Quarto's link attributes in show_doc's markdown mean nothing to nbconvert
            md = (o.get('data') or {}).get('text/markdown')
            if md: o['data']['text/markdown'] = QUARTO_ATTR_RE.sub('', _text(md))
    exp = HTMLExporter(template_name='lab', embed_images=True, exclude_input_prompt=True, exclude_output_prompt=True)
    exp.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'docs_remove_input'},
                                                    remove_all_outputs_tags={'docs_remove_output'}), enabled=True)
    body, _ = exp.from_notebook_node(nb, resources={'metadata': {'name': page.title, 'path': str(proc_nb.parent)}})
    body = _embed_local_imgs(body, proc_nb.parent)
    body = body.replace('</body>', _CHECK_SCRIPT + '</body>', 1) if '</body>' in body else body + _CHECK_SCRIPT
    out_html.parent.mkdir(parents=True, exist_ok=True)
    out_html.write_text(body, encoding='utf-8')
    # visible body text beyond the title block: cell sources shown, markdown, outputs
    shown = [c for c in cells if not (c.cell_type == 'markdown' and c.source.lstrip().startswith('<!-- WARNING'))]
    return body if shown else ''


def run_chromium(chromium: str, url: str, args: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix='docs-check-chromium-') as prof:
        cmd = [chromium, *CHROMIUM_FLAGS, f'--user-data-dir={prof}', *args, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def browse(chromium: str, page_html: Path, png: Path, dom_path: Path, full_png: Path | None = None) -> tuple[list[str], dict]:
    """Open the page in headless Chromium: dump the DOM (after load) and take a 1280x2000 screenshot, and
    one of the whole page (up to MAX_FULL_HEIGHT pixels) to `full_png` if given."""
    url = page_html.resolve().as_uri()
    try:
        r = run_chromium(chromium, url, ['--virtual-time-budget=10000', '--dump-dom'])
    except subprocess.TimeoutExpired: return ['chromium --dump-dom timed out'], {}
    dom_path.write_text(r.stdout, encoding='utf-8')
    if r.returncode != 0 or not r.stdout.strip():
        tail = ' | '.join(r.stderr.strip().splitlines()[-3:])
        return [f'chromium --dump-dom failed (exit {r.returncode}): {tail}'], {}
    probs, res = browser_problems(r.stdout)
    try:
        s = run_chromium(chromium, url, ['--virtual-time-budget=10000', f'--screenshot={png.resolve()}',
                                         '--window-size=1280,2000'])
        if s.returncode != 0 or not png.is_file(): probs.append(f'chromium --screenshot failed (exit {s.returncode})')
    except subprocess.TimeoutExpired: probs.append('chromium --screenshot timed out')
    if full_png is not None and res.get('height', 0) > 2000:
        h = max(2000, min(int(res['height']), MAX_FULL_HEIGHT))
        try: run_chromium(chromium, url, ['--virtual-time-budget=10000', f'--screenshot={full_png.resolve()}',
                                          f'--window-size=1280,{h}'])
        except subprocess.TimeoutExpired: pass  # the full-page picture is for people, not a check
    return probs, res


def find_chromium(given: str | None) -> str | None:
    for c in ([given] if given else []) + ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']:
        p = shutil.which(c) if c else None
        if p: return p
    return None


def write_index(out: Path, pages: list[Page], config_probs: list[str], elapsed: float):
    rows = []
    for p in pages:
        full = p.png.with_name(p.png.stem + '_full.png') if p.png else None
        target = full if full and full.is_file() else p.png
        shot = (f'<a href="{target.relative_to(out)}"><img src="{p.png.relative_to(out)}" width="320"></a>'
                if p.png and p.png.is_file() else '(no screenshot)')
        link = f'<a href="{p.html.relative_to(out)}">{html.escape(p.stem)}</a>' if p.html and p.html.is_file() else html.escape(p.stem)
        probs = ''.join(f'<li>{html.escape(x)}</li>' for x in p.problems)
        notes = ''.join(f'<li class="note">{html.escape(x)}</li>' for x in p.notes)
        t = ', '.join(f'{k} {v:.1f}s' for k, v in p.timings.items())
        rows.append(f'<tr class="{p.status.lower()}"><td>{link}<br>{html.escape(p.title)}</td><td>{p.status}</td>'
                    f'<td>{p.n_cells} cells, {p.n_figures} figures<br>{t}<ul>{probs}{notes}</ul></td><td>{shot}</td></tr>')
    cfg = ''.join(f'<li>{html.escape(x)}</li>' for x in config_probs) or '<li>OK</li>'
    n_ok = sum(p.status == 'OK' for p in pages)
    (out / 'index.html').write_text(f'''<!doctype html><html><head><meta charset="utf-8"><title>docs check</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}} td{{border:1px solid #ccc;padding:6px;vertical-align:top}}
tr.fail td:nth-child(2){{color:#b00;font-weight:bold}} tr.ok td:nth-child(2){{color:#070}} li.note{{color:#666}}</style></head><body>
<h1>Docs check: {n_ok} of {len(pages)} pages ok</h1><p>{time.strftime('%Y-%m-%d %H:%M:%S')}, {elapsed:.0f}s</p>
<h2>Site configuration</h2><ul>{cfg}</ul>
<h2>Pages</h2><p>Click a page name for the rendered page, a screenshot for the whole page.</p>
<table><tr><th>page</th><th>status</th><th>details</th><th>screenshot (1280×2000)</th></tr>
{''.join(rows)}</table></body></html>''', encoding='utf-8')


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='docs_check', help='output folder for pages, screenshots and index.html')
    ap.add_argument('--only', action='append', help='check only these notebooks (name, name without number, glob; repeatable or comma-separated)')
    ap.add_argument('--skip', action='append', help='skip these notebooks (same forms as --only)')
    ap.add_argument('--no-execute', action='store_true', help='do not execute: check the notebooks with the outputs they were committed with (what nbdev_docs publishes)')
    ap.add_argument('--executed', metavar='DIR', help='reuse already-executed notebooks from DIR (same relative paths as in nbs/, e.g. a previous run\'s OUT/executed)')
    ap.add_argument('--timeout', type=int, default=900, help='seconds per cell (default 900)')
    ap.add_argument('--flags', default='', help='test flags to run that are normally skipped (as nbdev_test --flags)')
    ap.add_argument('--chromium', help='browser binary (default: chromium on PATH)')
    ap.add_argument('--require-outputs', action='store_true', help='fail if a notebook with code cells is committed without outputs (what nbdev_docs would publish)')
    ap.add_argument('--no-browser', action='store_true', help='skip the Chromium step (DOM dump, screenshots)')
    a = ap.parse_args(argv)
    t0 = time.time()

    from nbdev.config import get_config
    cfg = get_config()
    repo, nbs = Path(cfg.config_path).resolve(), Path(cfg.nbs_path).resolve()
    os.chdir(repo)
    out = (repo / a.out).resolve() if not Path(a.out).is_absolute() else Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    # the kernel must draw figures inline even when the caller set MPLBACKEND=Agg (as .ci/run does)
    os.environ['MPLBACKEND'] = 'module://matplotlib_inline.backend_inline'
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

    notebooks = list_notebooks(nbs)
    stems = [str(Path(n).with_suffix('')) for n in notebooks]
    sel = stems
    if a.only:
        sel = match_names(stems, split_names(a.only))
        if not sel: _say(f"FAIL --only {a.only} names no notebook of {', '.join(stems)}"); return 1
    if a.skip: sel = [s for s in sel if s not in set(match_names(stems, split_names(a.skip)))]
    pages = [Page(s, nbs / f'{s}.ipynb') for s in sel]
    for p in pages:  # forget this page's results of an earlier run (not the executed notebooks --executed reuses)
        for f in [out / 'pages' / f'{p.stem}.html', out / 'dom' / f'{p.stem}.html', out / 'kernel_logs' / f'{p.stem}.log',
                  out / 'screenshots' / f'{p.stem}.png', out / 'screenshots' / f'{p.stem}_full.png'] + \
                 ([] if a.executed else [out / 'executed' / f'{p.stem}.ipynb']):
            f.unlink(missing_ok=True)
    mode = 'committed outputs' if a.no_execute else f'executed notebooks from {a.executed}' if a.executed else 'executing'
    _say(f"docs check: {len(pages)} of {len(stems)} notebooks ({mode}); output in {out}")

    ts = time.time()
    try: config_probs = check_config(repo, nbs, notebooks)
    except Exception as e: config_probs = [f"generating the site configuration failed: {type(e).__name__}: {e}"]
    _say(f"{'FAIL' if config_probs else 'OK  '} site configuration: _quarto.yml, nbs/nbdev.yml, nbs/sidebar.yml "
         f"({len(notebooks)} notebooks){': ' + '; '.join(config_probs) if config_probs else ''} [{time.time() - ts:.1f}s]")

    import nbformat
    no_outputs = [p.stem for p in pages if not any(c.get('outputs') for c in _read_nb(p.src).cells if c.cell_type == 'code')
                  and any(c.cell_type == 'code' for c in _read_nb(p.src).cells)]
    flags = set(cfg.get('tst_flags', '').split()) - set(a.flags.split())
    srcs = {}
    for p in pages:
        ts = time.time()
        src_nb = _read_nb(p.src)
        for x in frontmatter_problems(src_nb): p.fail(x)
        dropped = title_cell_dropped_lines(src_nb)
        if dropped and not frontmatter_problems(src_nb):
            p.notes.append(f"WARN: nbdev keeps only the title, the first '> ' line and '- key: value' lines of the "
                           f"title cell; dropped from the page: {' / '.join(dropped)[:200]!r}")
        if a.no_execute: srcs[p.stem] = p.src
        elif a.executed:
            e = Path(a.executed) / f'{p.stem}.ipynb'
            if e.is_file(): srcs[p.stem] = e
            else: p.fail(f"no executed notebook {e}")
        else:
            dst = out / 'executed' / f'{p.stem}.ipynb'
            _say(f"  executing {p.stem} ...")
            probs, notes = execute_notebook(p.src, dst, a.timeout, flags, log=out / 'kernel_logs' / f'{p.stem}.log')
            for x in probs: p.fail(x)
            p.notes += notes
            srcs[p.stem] = dst
            p.timings['execute'] = time.time() - ts

    ts = time.time()
    jobs = [(p.stem, srcs[p.stem], repo / '_proc' / f'{p.stem}.ipynb') for p in pages if p.stem in srcs]
    for _, _, d in jobs: d.unlink(missing_ok=True)
    proc_res = process_notebooks(repo, nbs, jobs, timeout=max(900, 300 * len(jobs)))
    _say(f"  processed {len(jobs)} notebooks with nbdev's FilterDefaults into _proc/ [{time.time() - ts:.1f}s]")

    chromium = None if a.no_browser else find_chromium(a.chromium)
    if not a.no_browser and not chromium: config_probs.append('chromium not found (install Debian chromium or pass --chromium)')
    for p in pages:
        if p.stem not in srcs: continue
        err, secs = proc_res.get(p.stem, (None, 0.0))
        p.timings['process'] = secs
        if err:
            p.fail(explain_proc_error(err))
            continue
        ts = time.time()
        proc = repo / '_proc' / f'{p.stem}.ipynb'
        # outputs and image references are checked in the notebook as executed, so cell numbers are those of
        # nbs/NAME.ipynb (0-based); the processed notebook's show_doc outputs are checked too
        ran = _read_nb(srcs[p.stem])
        for x in output_problems(ran) + missing_markdown_images(ran, p.src.parent): p.fail(x)
        for x in output_problems(_read_nb(proc)):
            if x.split(':', 1)[1] not in ''.join(p.problems): p.fail('processed ' + x)
        p.html = out / 'pages' / f'{p.stem}.html'
        try: body = render_html(proc, p.html, p)
        except Exception as e:
            p.fail(f"rendering to HTML failed: {type(e).__name__}: {e}")
            continue
        if not body: p.fail('empty page: nothing but the title')
        for x in img_src_problems(html_img_srcs(body.split(_CHECK_SCRIPT)[0]), p.html.parent): p.fail(x)
        if chromium:
            p.png = out / 'screenshots' / f'{p.stem}.png'
            p.png.parent.mkdir(parents=True, exist_ok=True)
            dom = out / 'dom' / f'{p.stem}.html'
            dom.parent.mkdir(parents=True, exist_ok=True)
            probs, res = browse(chromium, p.html, p.png, dom, full_png=out / 'screenshots' / f'{p.stem}_full.png')
            for x in probs: p.fail(x)
            if res and body and res.get('text', 0) < MIN_BODY_CHARS + len(p.title):
                p.fail(f"empty page: the browser shows only {res.get('text')} characters")
        p.timings['render'] = time.time() - ts
        if p.png: p.png = p.png if p.png.is_file() else None

    elapsed = time.time() - t0
    write_index(out, pages, config_probs, elapsed)
    (out / 'summary.json').write_text(json.dumps({'config': config_probs, 'elapsed_s': round(elapsed, 1), 'pages': [
        {'page': p.stem, 'title': p.title, 'status': p.status, 'problems': p.problems, 'notes': p.notes,
         'cells': p.n_cells, 'figures': p.n_figures, 'timings_s': {k: round(v, 1) for k, v in p.timings.items()}}
        for p in pages]}, indent=1))
    w = max([len(p.stem) for p in pages] + [4])
    _say('')
    for p in pages:
        t = ', '.join(f'{k} {v:.0f}s' for k, v in p.timings.items())
        warns = [n for n in p.notes if n.startswith('WARN')]
        detail = '; '.join(p.problems) if p.problems else f"{p.title!r}: {p.n_cells} cells, {p.n_figures} figures"
        _say(f"{p.status:4} {p.stem:{w}}  {detail}{' [' + t + ']' if t else ''}")
        for n in warns: _say(f"{'':4} {'':{w}}  {n}")
    n_ok = sum(p.status == 'OK' for p in pages)
    if config_probs: _say(f"FAIL site configuration: {'; '.join(config_probs)}")
    if no_outputs:
        _say(f"{'FAIL' if a.require_outputs else 'NOTE'} {len(no_outputs)} of {len(pages)} notebooks are committed without outputs ({', '.join(no_outputs)}): "
             f"nbdev_docs does not execute notebooks, so the published pages show none of their outputs or figures")
    _say(f"{n_ok} pages ok, {len(pages) - n_ok} failed ({elapsed:.0f}s); see {out / 'index.html'}")
    return 0 if n_ok == len(pages) and not config_probs and not (a.require_outputs and no_outputs) else 1


if __name__ == '__main__':
    sys.exit(main())
