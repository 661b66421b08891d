"Tests of the `posebench` command: run (success and a failing cell), report, demo (tiny, and a real margin)."
import json
import pytest
from posebench.cli import main, DEMO
from posebench.train import write_json


def test_run_via_cli(tmp_path, capsys):
    code = main(['run', 'train_supervised', '-p', 'epochs', '1', '-p', 'data_fraction', '0.02', '-p', 'test_fraction',
                 '0.05', '-p', 'model_kwargs', '{"width": 32}', '-p', 'progress', 'false', '--device', 'cpu',
                 '--out', str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (tmp_path / 'train_supervised.ipynb').exists() and (tmp_path / 'metrics.json').exists()
    assert '| simple_baseline |' in out and str(tmp_path / 'metrics.json') in out
    assert json.loads((tmp_path / 'metrics.json').read_text())['config']['device'] == 'cpu'


def test_run_failing_cell_exit_code(tmp_path, capsys):
    code = main(['run', 'train_supervised', '-p', 'model', 'no_such_model', '-p', 'epochs', '1',
                 '-p', 'data_fraction', '0.01', '--out', str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert 'raised ValueError' in err and 'no_such_model' in err and 'cell ' in err and 'Traceback' not in err


def test_run_bad_parameter_fails_fast(tmp_path, capsys):
    assert main(['run', 'train_supervised', '-p', 'batch_size', 'big', '--out', str(tmp_path)]) == 2
    assert "parameter 'batch_size' expects int" in capsys.readouterr().err
    assert not tmp_path.joinpath('train_supervised.ipynb').exists()


def test_report(tmp_path, capsys):
    write_json(tmp_path / 'r' / 'metrics.json', {'method': 'sb', 'tests': {'t': {'mpjpe': 51.25, 'p_mpjpe': 40.0}}})
    assert main(['report', str(tmp_path), '--metrics', 'mpjpe', 'p_mpjpe', '--out', str(tmp_path / 'rep.md')]) == 0
    out = capsys.readouterr().out
    assert '| sb | 51.2 | 40.0 |' in out or '| sb | 51.3 | 40.0 |' in out
    assert (tmp_path / 'rep.md').read_text().startswith('| method | t mpjpe | t p_mpjpe |')
    assert main(['report', str(tmp_path / 'empty_dir_that_is_missing')]) == 2


def test_demo_beats_untrained_by_a_clear_margin(tmp_path, capsys):
    # the demo's own model and recipe, on a quarter of the data for 2 epochs (the real demo: all of it, more epochs)
    code = main(['demo', '--out', str(tmp_path), '--epochs', '2', '--data-fraction', '0.25', '--device', 'cpu'])
    out = capsys.readouterr().out
    assert code == 0, out
    res = json.loads((tmp_path / 'metrics.json').read_text())
    assert res['model_kwargs'] == DEMO['model_kwargs'] and res['config']['batch_size'] == DEMO['batch_size']
    for k, t in res['tests'].items():
        assert t['mpjpe'] < 0.5 * res['untrained'][k]['mpjpe'], (t['mpjpe'], res['untrained'][k]['mpjpe'])
    assert 'untrained' in out and 'executed notebook' in out and 'curves.png' in out and '| simple_baseline (demo) |' in out
