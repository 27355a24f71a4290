"""README's two commands stay true: CI runs README's test command, and the main-job command parses."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    block = re.search(r"## Two commands.*?```sh\n(.*?)```", (ROOT / 'README.md').read_text(), re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith('#')]


def test_readme_has_two_commands():
    assert len(_readme_commands()) == 2


def test_ci_runs_readme_test_command():
    test_cmd = _readme_commands()[1].split('&&', 1)[1].strip()   # after the install step
    assert test_cmd in (ROOT / '.ci' / 'run').read_text()


def test_main_job_command_parses():
    from survconvmixer.cli import build_parser, config_from_args
    main_cmd = _readme_commands()[0].split('&&', 1)[1].split()
    assert main_cmd[0] == 'survconvmixer'
    cfg = config_from_args(build_parser().parse_args(main_cmd[1:]))
    assert cfg.preset == 'quick' and cfg.data == 'demo'


def test_index_notebook_shows_the_same_commands():
    nb = (ROOT / 'nbs' / '00_index.ipynb').read_text()
    for cmd in _readme_commands(): assert cmd.replace('"', '\\"') in nb
