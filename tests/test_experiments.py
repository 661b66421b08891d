"Tests of posebench.experiments: notebook lookup, typed parameters of the notebook contract, collecting results."
import json
import warnings
from pathlib import Path
import pytest
from posebench.experiments import (notebook_path, list_notebooks, notebook_parameters, check_parameters, parse_value,
                                   run_notebook, collect_results, report_table)
from posebench.recipe import RunResult, SHARED_PARAMETERS


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


@pytest.mark.parametrize('nb', ['train_supervised', 'train_dof', 'train_poseaug', 'train_posegu', 'train_svmac',
                                'train_representations'])
def test_every_notebook_has_the_shared_parameters(nb):
    d = notebook_parameters(nb)
    assert set(SHARED_PARAMETERS) <= set(d), sorted(set(SHARED_PARAMETERS) - set(d))
    assert d['train'] == {} and d['method'] == {} and d['seed'] == 0 and d['device'] == 'auto'
    assert not {'epochs', 'lr', 'batch_size', 'data_fraction', 'test_fraction', 'root', 'resume'} & set(d)


def test_parameters_and_types():
    d = notebook_parameters('train_supervised')
    check_parameters({'seed': 2, 'train': {'epochs': 2}, 'method': {'model_kwargs': {'width': 8}}}, d)
    with pytest.raises(ValueError, match=r"parameter 'train_fraction' expects float"): check_parameters({'train_fraction': '0.5'}, d)
    with pytest.raises(ValueError, match=r"parameter 'train' expects dict"): check_parameters({'train': 3}, d)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['epochs'\]"): check_parameters({'epochs': 1}, d)
    assert parse_value('2', 1) == 2 and parse_value('0.5', 1.) == 0.5 and parse_value('False', True) is False
    assert parse_value('007', 'x') == '007' and parse_value("{'epochs': 8}", {}) == {'epochs': 8}


def test_wrong_type_fails_before_running(tmp_path):
    with pytest.raises(ValueError, match=r"train_supervised: parameter 'seed' expects int.*got str '3'"):
        run_notebook('train_supervised', {'seed': '3'}, tmp_path / 'x')
    assert not (tmp_path / 'x').exists()


def test_collect_results_and_report(tmp_path):
    r = lambda m, v: RunResult(m, 'supervised', {'t': {'mpjpe': v, 'p_mpjpe': v / 2, 'pck': 90., 'auc': 50.}})
    r('sb', 40.).save(tmp_path / 'a' / 'metrics.json'); r('sb', 44.).save(tmp_path / 'b' / 'x' / 'metrics.json')
    r('vp', 30.).save(tmp_path / 'c' / 'metrics.json')
    rs = collect_results([tmp_path])
    assert sorted(x.method for x in rs) == ['sb', 'sb', 'vp'] and all(Path(x.path).exists() for x in rs)
    table = report_table([tmp_path], metrics=('mpjpe',))
    assert '| sb | 42.0 ± 2.8 |' in table and '| vp | 30.0 |' in table
    with pytest.raises(ValueError, match='does not exist'): collect_results([tmp_path / 'nope'])
    # broken or foreign files are named and skipped, never abort the report; strict mode raises
    (tmp_path / 'bad').mkdir(); (tmp_path / 'bad' / 'metrics.json').write_text('{"x": 1}')
    (tmp_path / 'trunc').mkdir(); (tmp_path / 'trunc' / 'metrics.json').write_text('{"method": ')
    (tmp_path / 'fail').mkdir(); (tmp_path / 'fail' / 'failed.json').write_text(json.dumps({'error': 'ValueError: boom'}))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        assert len(collect_results([tmp_path])) == 3
    msgs = ' '.join(str(x.message) for x in w)
    assert 'bad/metrics.json' in msgs and 'trunc/metrics.json' in msgs and 'boom' in msgs and 'schema' in msgs
    with pytest.raises(ValueError, match='schema'): collect_results([tmp_path / 'bad'], strict=True)
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['mpjep'\]"): report_table(rs, metrics=('mpjep',))
    with pytest.raises(ValueError, match='expected RunResults'): report_table([x.to_dict() for x in rs])


def test_null_metric_is_named_not_unknown(tmp_path):
    "A metric written as null (NaN predictions) is reported as null in that file, not as an unknown metric name."
    RunResult('sb', 'supervised', {'t': {'mpjpe': None, 'pck': 90.}}).save(tmp_path / 'a' / 'metrics.json')
    with pytest.raises(ValueError, match=r"metric\(s\) \['mpjpe'\] are null \(NaN.*a/metrics\.json"):
        report_table([tmp_path], metrics=('mpjpe',))


def test_timeout_must_be_positive(tmp_path):
    for t in (0, -5., float('nan')):
        with pytest.raises(ValueError, match=r"timeout: expected None \(no limit\) or seconds per cell > 0"):
            run_notebook('train_supervised', {}, tmp_path / 'x', timeout=t)
    assert not (tmp_path / 'x').exists()
