"Tests of posebench.experiments: notebook lookup, typed parameters, a tiny papermill run, collecting results."
import json
from pathlib import Path
import pytest
from posebench.experiments import (notebook_path, list_notebooks, notebook_parameters, check_parameters, parse_value,
                                   run_notebook, collect_results, report_table)
from posebench.train import write_json

TINY = {'epochs': 1, 'data_fraction': 0.02, 'test_fraction': 0.05, 'batch_size': 128,
        'model_kwargs': {'width': 64}, 'progress': False, 'device': 'cpu'}


def test_notebook_lookup():
    assert 'train_supervised' in list_notebooks()
    p = notebook_path('train_supervised')
    assert p.is_file() and p.parent.name == 'experiments'
    assert notebook_path(str(p)) == p and notebook_path('train_supervised.ipynb') == p
    with pytest.raises(ValueError, match=r"notebook 'nope': not found; valid names: \[.*'train_supervised'"):
        notebook_path('nope')


def test_notebook_dirs_from_environment(tmp_path, monkeypatch):
    (tmp_path / 'my_exp.ipynb').write_bytes(notebook_path('train_supervised').read_bytes())
    monkeypatch.setenv('POSEBENCH_NOTEBOOKS', str(tmp_path))
    assert notebook_path('my_exp') == tmp_path / 'my_exp.ipynb' and 'my_exp' in list_notebooks()


def test_parameters_and_types():
    d = notebook_parameters('train_supervised')
    assert d['data'] == 'default' and d['model'] == 'simple_baseline' and isinstance(d['epochs'], int)
    assert {'batch_size', 'lr', 'device', 'seed', 'out_dir', 'data_fraction'} <= set(d)
    check_parameters({'epochs': 2, 'lr': 1, 'model_kwargs': {'width': 8}}, d)
    with pytest.raises(ValueError, match=r"parameter 'lr' expects float"): check_parameters({'lr': '1e-3'}, d)
    with pytest.raises(ValueError, match=r"parameter 'amp' expects bool"): check_parameters({'amp': 1}, d)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['epoch'\]"): check_parameters({'epoch': 1}, d)
    assert parse_value('2', 1) == 2 and parse_value('0.5', 1.) == 0.5 and parse_value('False', True) is False
    assert parse_value('007', 'x') == '007' and parse_value('{"width": 8}', {}) == {'width': 8}


def test_wrong_type_fails_before_running(tmp_path):
    with pytest.raises(ValueError, match=r"train_supervised: parameter 'epochs' expects int.*got str '3'"):
        run_notebook('train_supervised', {'epochs': '3'}, tmp_path / 'x')
    assert not (tmp_path / 'x').exists()


def test_tiny_papermill_run_end_to_end(tmp_path):
    out = run_notebook('train_supervised', TINY, tmp_path / 'run')
    assert out == tmp_path / 'run' / 'train_supervised.ipynb' and out.exists()
    res = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert res['config']['epochs'] == 1 and res['config']['out_dir'] == str(tmp_path / 'run')
    assert res['model_kwargs'] == {'width': 64} and len(res['history']) == 1
    t = next(iter(res['tests'].values()))
    assert {'mpjpe', 'p_mpjpe', 'pck', 'auc', 'per_joint', 'per_action'} <= set(t) and t['mpjpe'] > 0
    for f in ('checkpoint.pt', 'log.csv', 'history.json', 'curves.png', 'per_joint.png', 'example.png'):
        assert (tmp_path / 'run' / f).stat().st_size > 0, f
    nb = json.loads(out.read_text())
    injected = [c for c in nb['cells'] if 'injected-parameters' in c['metadata'].get('tags', [])]
    assert injected and 'epochs = 1' in ''.join(injected[0]['source'])
    assert '| simple_baseline |' in report_table([tmp_path])


def test_collect_results_and_report(tmp_path):
    r = lambda m, v: {'method': m, 'tests': {'t': {'mpjpe': v, 'p_mpjpe': v / 2, 'pck': 90., 'auc': 50.}}}
    write_json(tmp_path / 'a' / 'metrics.json', r('sb', 40.)); write_json(tmp_path / 'b' / 'x' / 'metrics.json', r('sb', 44.))
    write_json(tmp_path / 'c' / 'metrics.json', r('vp', 30.))
    rs = collect_results([tmp_path])
    assert sorted(x['method'] for x in rs) == ['sb', 'sb', 'vp'] and all(Path(x['_path']).exists() for x in rs)
    table = report_table([tmp_path], metrics=('mpjpe',))
    assert '| sb | 42.0 ± 2.8 |' in table and '| vp | 30.0 |' in table
    with pytest.raises(ValueError, match='does not exist'): collect_results([tmp_path / 'nope'])
    (tmp_path / 'bad').mkdir(); (tmp_path / 'bad' / 'metrics.json').write_text('{"x": 1}')
    with pytest.raises(ValueError, match="no 'tests' key"): collect_results([tmp_path / 'bad'])
