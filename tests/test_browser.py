"Each dashboard notebook in a real browser: headless Chromium drives JupyterLab on localhost (skips without chromium)."
import os, shutil
from pathlib import Path
import pytest
from browser import chromium_path, jupyter_lab, run_dashboard

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = sorted((ROOT / 'nbs' / 'dashboards').glob('*.ipynb'))

pytestmark = pytest.mark.skipif(chromium_path() is None, reason='chromium is not installed')
pytest.importorskip('playwright')

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp('lab')
    for nb in DASHBOARDS: shutil.copy(nb, root / nb.name)   # run copies: the sources stay unexecuted
    with jupyter_lab(root) as (url, token): yield url, token, root

@pytest.mark.parametrize('nb', [p.name for p in DASHBOARDS])
def test_dashboard_renders_and_reacts(lab, nb):
    url, token, root = lab
    r = run_dashboard(url, token, nb, root / 'shots', timeout_s=420)
    assert r['error'] is None, f"{nb} raised in the browser:\n{r['error']}"
    assert r['plots'] >= 1, f"no plotly figure rendered in {nb}"
    assert 'Traceback' not in r['text'], r['text'][-3000:]
    assert r['moved'], f"no slider found in {nb}"
    assert r['screenshot'].stat().st_size > 20_000
    keep = os.environ.get('POSEBENCH_SCREENSHOTS')
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for p in (root / 'shots').glob(Path(nb).stem + '*.png'): shutil.copy(p, Path(keep) / p.name)
