"""Shared pytest fixtures."""
from pathlib import Path
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / 'shared'

@pytest.fixture
def shared_dir() -> Path:
    "The project's read-only `../shared` folder; skips the test where it is absent (user machines)."
    if not SHARED.is_dir(): pytest.skip('../shared is not present')
    return SHARED
