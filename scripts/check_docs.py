#!/usr/bin/env python
"""Check the documentation site without Quarto (which cannot be installed offline; see .ci/docs).

Generates and checks the site configuration as `nbdev_docs` does, then for each notebook of nbs/: executes it
into docs_check/executed/ (unless --no-execute), processes it with nbdev's docs processors, renders it to a
self-contained HTML page, opens that in headless Chromium and FAILS the page on a traceback, a missing figure
or an empty page. Exit status 1 on any failure."""
import argparse, base64, binascii, fnmatch, html, json, os, re, shutil, subprocess, sys, tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

TRACEBACK = 'Traceback (most recent call last)'
FIGURE_TEXT_RE = re.compile(r'<(?:matplotlib\.figure\.)?Figure size \d+(?:\.\d+)?x\d+(?:\.\d+)? with \d+ Axes>')
MD_IMAGE_RE = re.compile(r'!\[[^\]]*\]\(\s*(?:<([^>]*)>|([^)\s]*))')
HTML_IMG_RE = re.compile(r'<img\b[^>]*?\bsrc\s*=\s*(["\'])(.*?)\1', re.I | re.S)
RESULT_ID = 'docs-check-result'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars', '--host-resolver-rules=MAP * ~NOTFOUND']
# Injected into each page: the images the browser could not show, the length of the text after the title cell
CHECK_SCRIPT = '''<script>window.addEventListener('load', () => {
  const imgs = Array.from(document.images, (im, i) =>
    ({i: i, src: (im.getAttribute('src') || '').slice(0, 80), ok: im.complete && im.naturalWidth > 0}));
  const cells = Array.from(document.querySelectorAll('.jp-Cell')).slice(1);
  const pre = Object.assign(document.createElement('pre'), {id: '%s', hidden: true});
  pre.textContent = JSON.stringify({imgs, text: cells.reduce((n, c) => n + c.innerText.trim().length, 0)});
  document.body.appendChild(pre);
});</script>
''' % RESULT_ID

# ---- pure checks (unit-tested in tests/test_docs_tools.py) ---------------------------------------------

def _text(x) -> str:
    "Notebook text fields are strings or lists of strings."
    return ''.join(x) if isinstance(x, list) else (x or '')

def output_problems(nb: dict) -> list[str]:
    "Tracebacks and matplotlib figures printed as text (no image) in the code-cell outputs of notebook `nb`."
    probs = []
    for i, cell in enumerate(nb.get('cells', [])):
        for out in cell.get('outputs', []) if cell.get('cell_type') == 'code' else []:
            if out.get('output_type') == 'error':
                evalue = re.sub(r'\x1b\[[0-9;]*m', '', _text(out.get('evalue'))).strip().split('\n')[0]
                probs.append(f"cell {i}: error output {out.get('ename', '?')}: {evalue[:200]}")
                continue
            data = out.get('data') or {}
            texts = [_text(out.get('text'))] + [_text(v) for k, v in data.items() if k.startswith('text/')]
            if any(TRACEBACK in t for t in texts):
                probs.append(f"cell {i}: traceback in a {out.get('output_type')} output")
            if not any(k.startswith('image/') for k in data) and any(FIGURE_TEXT_RE.search(t) for t in texts):
                probs.append(f"cell {i}: matplotlib figure printed as text, no image (non-inline MPLBACKEND?)")
    return probs

def _is_remote(src: str) -> bool:
    "Whether image source `src` is on the web (not checked: there is no internet here)."
    return urlparse(src).scheme in ('http', 'https', 'ftp') or src.startswith('//')

def _local_path(src: str, base: Path) -> Path:
    "The file a relative, absolute or file: image source points to, seen from folder `base`."
    u = urlparse(src)
    p = unquote(u.path)
    return Path(p) if (u.scheme == 'file' or p.startswith('/')) else base / p

def markdown_image_refs(src: str) -> list[str]:
    "Image sources referenced in markdown text `src`, both `![alt](src)` and `<img src=...>`."
    md = [m.group(1) if m.group(1) is not None else m.group(2) for m in MD_IMAGE_RE.finditer(src)]
    return md + [m.group(2) for m in HTML_IMG_RE.finditer(src)]

def missing_markdown_images(nb: dict, base: Path) -> list[str]:
    "Markdown image references of `nb` that are empty, missing attachments or missing files (relative to `base`)."
    probs = []
    for i, cell in enumerate(nb.get('cells', [])):
        if cell.get('cell_type') != 'markdown': continue
        for src in markdown_image_refs(_text(cell.get('source'))):
            if not src.strip(): probs.append(f"cell {i}: markdown image with an empty source")
            elif src.startswith('attachment:'):
                if src[len('attachment:'):] not in (cell.get('attachments') or {}):
                    probs.append(f"cell {i}: markdown image refers to a missing attachment {src!r}")
            elif not (src.startswith('data:') or _is_remote(src) or _local_path(src, base).is_file()):
                probs.append(f"cell {i}: markdown image {src!r} not found")
    return probs

def html_img_srcs(page: str) -> list[str | None]:
    "The `src` of every `<img>` of HTML text `page` (None where it has none)."
    srcs = [HTML_IMG_RE.match(tag) for tag in re.findall(r'<img\b[^>]*>', page, re.I)]
    return [html.unescape(m.group(2)) if m else None for m in srcs]

def _data_uri_ok(src: str) -> bool:
    "Whether data URI `src` has a non-empty (and, if base64, decodable) payload."
    head, _, payload = src.partition(',')
    if not payload.strip(): return False
    try: return not head.endswith(';base64') or len(base64.b64decode(payload)) > 0
    except (binascii.Error, ValueError): return False

def img_src_problems(srcs: list[str | None], base: Path) -> list[str]:
    "Image sources that are missing, empty, undecodable or point to a file missing relative to `base`."
    probs = []
    for j, src in enumerate(srcs):
        if not (src or '').strip(): probs.append(f"<img> #{j} has an empty or missing src")
        elif src.startswith('data:'):
            if not _data_uri_ok(src): probs.append(f"<img> #{j} has an empty or undecodable data URI {src[:60]!r}")
        elif not (_is_remote(src) or _local_path(src, base).is_file()):
            probs.append(f"<img> #{j} src {src[:80]!r} does not resolve")
    return probs

def browser_problems(dom: str) -> list[str]:
    "Read the result CHECK_SCRIPT left in the DOM Chromium dumped: undisplayed images and an empty page."
    m = re.search(rf'<pre[^>]*id="{RESULT_ID}"[^>]*>(.*?)</pre>', dom, re.S)
    if not m: return ["the browser did not finish loading the page (no check result in the dumped DOM)"]
    res = json.loads(html.unescape(m.group(1)))
    probs = [f"<img> #{im['i']} was not displayed by the browser (src {im['src']!r})"
             for im in res['imgs'] if not im['ok'] and not _is_remote(im['src'])]
    if res['text'] == 0: probs.append("empty page: the browser shows nothing but the title")
    return probs

def sidebar_entries(node) -> list[str]:
    "Every file named in an nbdev `sidebar.yml` structure (hrefs and contents, recursively)."
    if isinstance(node, str): return [node]
    if isinstance(node, list): return [e for o in node for e in sidebar_entries(o)]
    if isinstance(node, dict): return [e for v in node.values() for e in sidebar_entries(v)]
    return []

def sidebar_missing(sidebar: dict, notebooks: list[str]) -> list[str]:
    "Notebooks (paths relative to nbs/) that the parsed `sidebar.yml` does not list."
    listed = {str(Path(e)) for e in sidebar_entries(sidebar)}
    return [nb for nb in notebooks if str(Path(nb)) not in listed]

# ---- the pipeline ----------------------------------------------------------------------------------------

def list_notebooks(nbs: Path) -> list[str]:
    "The site's notebooks as nbdev_sidebar finds them (paths relative to nbs/)."
    from nbdev.doclinks import nbglob
    files = nbglob(str(nbs), file_re=r'\.ipynb$', skip_folder_re=r'(?:^[_.]|^www\$)', func=Path)
    return sorted(str(Path(f).relative_to(nbs)) for f in files)

def check_config(repo: Path, nbs: Path, notebooks: list[str]) -> list[str]:
    "Generate the site configuration as `nbdev_docs` does before Quarto; check it parses and lists every notebook."
    import yaml
    import nbdev.doclinks
    from nbdev.quarto import nbdev_sidebar, refresh_quarto_yml
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__(path=str(nbs))
    probs, parsed = [], {}
    for p in (repo / '_quarto.yml', nbs / '_quarto.yml', nbs / 'nbdev.yml', nbs / 'sidebar.yml'):
        try: parsed[p.name] = yaml.safe_load(p.read_text())
        except (OSError, yaml.YAMLError) as e: probs.append(f"{p.relative_to(repo)}: {type(e).__name__}: {e}")
    missing = sidebar_missing(parsed.get('sidebar.yml') or {}, notebooks)
    if missing: probs.append(f"sidebar.yml does not list {', '.join(missing)}")
    return probs

def read_nb(path: Path):
    "Read a notebook without validation warnings (execnb writes cells without ids) and give its cells ids."
    import nbformat
    nb = nbformat.v4.reads(Path(path).read_text(encoding='utf-8'))
    for i, c in enumerate(nb.cells): c.setdefault('id', f'cell-{i}')
    return nb

def skipped_cells(src: Path, flags: set[str]) -> set[int] | None:
    "Indices of the code cells nbdev_test skips (flags, `#| eval: false`, nbdev_export); None if it skips them all."
    from fastcore.basics import str2bool
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor
    nb = NBProcessor(src, procs=FrontmatterProc, process=True).nb
    if str2bool((getattr(nb, 'frontmatter_', None) or {}).get('skip_exec', False)): return None
    return {c.idx_ for c in nb.cells if c.cell_type == 'code' and ('nbdev_export(' in c.source
            or flags & set(c.directives_) or (c.directives_.get('eval:', [''])[0] or '').lower() == 'false')}

def execute_notebook(src: Path, dst: Path, flags: set[str], timeout: int = 900) -> list[str]:
    "Execute `src` with nbclient in its folder, skipping what nbdev_test skips; write the result to `dst`."
    import nbformat
    from nbclient import NotebookClient
    skip, nb, probs = skipped_cells(src, flags), read_nb(src), []

    class Client(NotebookClient):
        async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
            if cell_index in skip: return cell
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

    if skip is not None:
        client = Client(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(src.parent)}})
        try: client.execute()
        except Exception as e:  # the failing cell's error output is reported by output_problems
            probs.append(f"execution stopped: {type(e).__name__}: {(str(e).strip().splitlines() or [''])[-1][:200]}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)
    return probs

PROC_WORKER = '''import sys, pathlib, nbdev.serve_drv, nbdev.processors
try: nbdev.serve_drv.main((pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), nbdev.processors.FilterDefaults))
except BaseException as e:  # the error in the notebook's code, and nbdev's message that names the cell
    c = e.__cause__ or e.__context__
    sys.exit(f"{type(c).__name__}: {c} (in {str(e).splitlines()[0]})" if c else f"{type(e).__name__}: {e}")'''

def process_notebook(src: Path, dst: Path, repo: Path) -> str | None:
    "Process `src` into `dst` with nbdev's docs processors in a fresh Python, as `proc_nbs` does; the error or None."
    dst.parent.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([sys.executable, '-c', PROC_WORKER, src, dst], cwd=repo, capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or [f'exit status {r.returncode}'])[-1][:400]

def render_html(proc_nb: Path, page: Path, base: Path) -> str:
    "Render processed notebook `proc_nb` to standalone HTML `page`: title block first, images (from `base`) embedded."
    import nbformat
    import yaml
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    nb = read_nb(proc_nb)
    m = re.match(r'---\n(.*?)\n---', nb.cells[0].source, re.S) if nb.cells and nb.cells[0].cell_type == 'raw' else None
    fm = (yaml.safe_load(m.group(1)) or {}) if m else {}
    if m: nb.cells.pop(0)
    title = str(fm.get('title') or proc_nb.stem)
    desc = f"\n\n> {fm['description']}" if fm.get('description') else ''
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"# {title}{desc}"))
    for c in nb.cells:  # Quarto's cell options `#| echo/output/include: false` hide input, outputs, the cell
        opts = re.findall(r'^#\|\s*(echo|output|include)\s*:\s*(\w+)', c.source if c.cell_type == 'code' else '', re.M)
        c.metadata['tags'] = [k for k, v in opts if v.lower() == 'false']
    exp = HTMLExporter(template_name='lab', embed_images=True, exclude_input_prompt=True, exclude_output_prompt=True)
    exp.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'echo'}, remove_all_outputs_tags={'output'},
                                                    remove_cell_tags={'include'}), enabled=True)
    body, _ = exp.from_notebook_node(nb, resources={'metadata': {'name': title, 'path': str(base)}})
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(body.replace('</body>', CHECK_SCRIPT + '</body>', 1), encoding='utf-8')
    return body

def run_chromium(chromium: str, page: Path, *args: str) -> subprocess.CompletedProcess:
    "Open `page` in headless Chromium with a throwaway profile and `args` (--dump-dom, --screenshot=...)."
    with tempfile.TemporaryDirectory(prefix='docs-check-chromium-') as profile:
        return subprocess.run([chromium, *CHROMIUM_FLAGS, f'--user-data-dir={profile}', '--virtual-time-budget=10000',
                               *args, page.resolve().as_uri()], capture_output=True, text=True, timeout=120)

def browse(chromium: str, page: Path, png: Path) -> list[str]:
    "Open `page` in headless Chromium: check its dumped DOM and take a 1280x2000 screenshot to `png`."
    png.parent.mkdir(parents=True, exist_ok=True)
    try:
        dom = run_chromium(chromium, page, '--dump-dom')
        shot = run_chromium(chromium, page, f'--screenshot={png.resolve()}', '--window-size=1280,2000')
    except subprocess.TimeoutExpired: return ['chromium timed out']
    if dom.returncode: return [f"chromium --dump-dom failed (exit {dom.returncode}): {dom.stderr.strip()[-200:]}"]
    shot_probs = [] if png.is_file() else [f"chromium --screenshot failed (exit {shot.returncode})"]
    return browser_problems(dom.stdout) + shot_probs

def check_notebook(stem: str, nbs: Path, out: Path, args, flags: set[str], chromium: str) -> list[str]:
    "Every problem of the page of notebook nbs/`stem`.ipynb (executed first unless --no-execute)."
    src, page, png = nbs / f'{stem}.ipynb', out / 'pages' / f'{stem}.html', out / 'screenshots' / f'{stem}.png'
    for f in (page, png): f.unlink(missing_ok=True)
    probs, ran = [], src
    if not args.no_execute:
        ran = out / 'executed' / f'{stem}.ipynb'
        print(f"  executing {stem} ...", flush=True)
        probs += execute_notebook(src, ran, flags)
    nb = read_nb(ran)
    code = [c for c in nb.cells if c.cell_type == 'code']
    if args.require_outputs and code and not any(c.get('outputs') for c in code):
        probs.append("no outputs: committed without outputs, so nbdev_docs would publish none")
    probs += output_problems(nb) + missing_markdown_images(nb, src.parent)
    proc = nbs.parent / '_proc' / f'{stem}.ipynb'
    err = process_notebook(ran, proc, nbs.parent)
    if err: return probs + [f"nbdev processing failed (nbdev_docs would fail too): {err}"]
    try: body = render_html(proc, page, src.parent)
    except Exception as e: return probs + [f"rendering to HTML failed: {type(e).__name__}: {e}"]
    return probs + img_src_problems(html_img_srcs(body), page.parent) + browse(chromium, page, png)

def main(argv: list[str] | None = None) -> int:
    "Check the site configuration and the selected pages; print a line each; 1 if anything failed."
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--only', nargs='+', action='extend', metavar='NAME', help='check only these notebooks (globs)')
    ap.add_argument('--no-execute', action='store_true', help="check the notebooks' committed outputs")
    ap.add_argument('--require-outputs', action='store_true', help='fail a notebook with code cells but no outputs')
    ap.add_argument('--chromium', default=shutil.which('chromium'), help='browser binary (default: chromium on PATH)')
    args = ap.parse_args(argv)
    if not (args.chromium and Path(args.chromium).is_file()):
        print(f"FAIL chromium not found ({args.chromium}): apt-get install -y chromium, or pass --chromium"); return 1

    from nbdev.config import get_config
    cfg = get_config()
    repo, nbs = Path(cfg.config_path).resolve(), Path(cfg.nbs_path).resolve()
    os.chdir(repo)
    os.environ['MPLBACKEND'] = 'module://matplotlib_inline.backend_inline'  # figures inline even if the caller set Agg
    notebooks = list_notebooks(nbs)
    stems = [n.removesuffix('.ipynb') for n in notebooks]
    sel = [s for s in stems if not args.only or any(fnmatch.fnmatch(s, p.removesuffix('.ipynb')) for p in args.only)]
    if not sel: print(f"FAIL --only {' '.join(args.only)} names no notebook of nbs/"); return 1

    try: config_probs = check_config(repo, nbs, notebooks)
    except Exception as e: config_probs = [f"generating the site configuration failed: {type(e).__name__}: {e}"]
    print(f"{'FAIL' if config_probs else 'OK  '} site configuration{': ' + '; '.join(config_probs) if config_probs else ''}")
    flags, failed = set(cfg.get('tst_flags', '').split()), 0
    for stem in sel:
        probs = check_notebook(stem, nbs, repo / 'docs_check', args, flags, args.chromium)
        failed += bool(probs)
        print(f"{'FAIL' if probs else 'OK  '} {stem}{': ' + '; '.join(probs) if probs else ''}", flush=True)
    print(f"{len(sel) - failed} of {len(sel)} pages ok; pages and screenshots in {repo / 'docs_check'}")
    return 1 if failed or config_probs else 0

if __name__ == '__main__':
    sys.exit(main())
