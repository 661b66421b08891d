"Tiny headless papermill runs of nbs/experiments/train_svmac.ipynb and train_representations.ipynb."
import json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXP = ROOT / 'nbs' / 'experiments'


def _run(nb, tmp_path, **params):
    pm = pytest.importorskip('papermill')
    out = tmp_path / 'run'
    parameters = dict(data='default', device='cpu', out_dir=str(out), train_fraction=0.02, test_samples=120,
                      eval_samples=60, batch_size=128, width=32, critic_width=32)
    parameters.update(params)
    pm.execute_notebook(str(EXP / nb), str(tmp_path / 'out.ipynb'), kernel_name='python3', language='python',
                        progress_bar=False, cwd=str(tmp_path), parameters=parameters)
    return out


def test_train_svmac_notebook_tiny_ablations(tmp_path):
    out = _run('train_svmac.ipynb', tmp_path, ablations=True, epochs=2, seeds=[0], train_fraction=0.01)
    m = json.loads((out / 'metrics.json').read_text())
    assert m['method'] == 'svmac_n1' and len(m['history']) == 2
    t = m['tests']['default_S9_S11']
    assert t['n'] == 120 and t['p_mpjpe'] > 0 and abs(t['mpjpe'] - t['n_mpjpe']) < 1e-3   # scale-aligned
    assert set(m['variants']) == {'svmac_n1', 'svmac_n2', 'svmac_n3', 'svmac_n2_nodisc', 'svmac_n2_sup5'}
    for name in ('svmac_n2', 'svmac_n3', 'svmac_n2_nodisc', 'svmac_n2_sup5'):
        r = json.loads((out / name / 'seed0' / 'metrics.json').read_text())
        assert r['method'] == name and r['config']['method_config']['n_angles'] in (2, 3)
    curves = json.loads((out / 'curves.json').read_text())
    assert curves['svmac_n2']['epoch'] == [1, 2] and len(curves['svmac_n2']['mean']) == 2
    assert (out / 'curves.html').exists()


def test_train_representations_notebook_tiny(tmp_path):
    out = _run('train_representations.ipynb', tmp_path, representation='all', epochs=1, seeds=[0, 1],
               sensitivity_samples=5)
    m = json.loads((out / 'metrics.json').read_text())
    assert m['method'] == 'hardy_full'
    assert set(m['variants']) == {'hardy_' + r for r in ('full', 'split_legs_torso', 'independent_legs_torso',
                                                         'split_limbs5', 'independent_limbs5')}
    assert len(m['variants']['hardy_full']) == 2 and m['stability']['hardy_full']['n'] == 2
    s = json.loads((out / 'sensitivity.json').read_text())
    M = s['independent_legs_torso']['matrix']
    legs, torso = [1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    assert all(M[i][j] == 0 for i in legs for j in torso) and len(M) == 17
    r = json.loads((out / 'hardy_independent_limbs5' / 'seed1' / 'metrics.json').read_text())
    assert r['config']['seed'] == 1 and r['tests']['default_S9_S11']['n'] == 120
