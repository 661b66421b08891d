"Shared fixtures: paths to the real mocap in ../shared/data (tests that need it skip when it is absent)."
from pathlib import Path
import os
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get('POSEBENCH_SHARED_DATA', ROOT.parent / 'shared' / 'data'))

def _need(p: Path) -> Path:
    if not p.exists(): pytest.skip(f"real data not available: {p}")
    return p

@pytest.fixture
def hdm05_npz() -> Path: return _need(SHARED_DATA / 'hdm05' / 'hdm05_h36m17.npz')

@pytest.fixture
def hdm05_raw() -> Path: return _need(SHARED_DATA / 'hdm05' / 'raw')

@pytest.fixture
def cmu_npz() -> Path: return _need(SHARED_DATA / 'cmu' / 'cmu_h36m17.npz')

@pytest.fixture
def cmu_raw() -> Path: return _need(SHARED_DATA / 'cmu' / 'raw')


@pytest.fixture(autouse=True, scope='module')
def _one_torch_thread():
    "Tiny networks on a shared 2-core machine: one intra-op thread avoids OpenMP oversubscription (several x faster)."
    import torch
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
