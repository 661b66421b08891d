"Tests of the `posebench` command: run (success, refusal, exact resume, failing cell), eval, report, demo, python -m."
import subprocess, sys
import numpy as np
import pytest
import torch
from posebench.cli import main, DEMO
from posebench.recipe import RunResult, load_run, experiment_data
from posebench.train import CHECKPOINT, load_checkpoint_file

TINY = ['-p', 'train_fraction', '0.02', '-p', 'test_samples', '200', '-p', 'eval_samples', '100',
        '-p', 'method', "{'model_kwargs': {'width': 32, 'blocks': 1}}", '--device', 'cpu']


def _run(out, train, capsys):
    code = main(['run', 'train_supervised', *TINY, '-p', 'train', train, '--out', str(out)])
    return code, capsys.readouterr()


def test_run_refuse_and_resume_exactly_through_the_cli(tmp_path, capsys):
    code, io = _run(tmp_path / 'a', "{'epochs': 1, 'batch_size': 128}", capsys)
    assert code == 0, io.err
    assert '| simple_baseline |' in io.out and 'metrics.json' in io.out
    one = RunResult.load(tmp_path / 'a' / 'metrics.json')
    assert one.train_config['device'] == 'cpu' and len(one.history) == 1
    first_s = load_checkpoint_file(tmp_path / 'a' / CHECKPOINT)['elapsed_s']   # training time the checkpoint carries
    # starting afresh in a folder that holds a run is refused (exit 1, naming the way out)
    code, io = _run(tmp_path / 'a', "{'epochs': 2, 'batch_size': 128}", capsys)
    assert code == 1 and 'already holds a run' in io.err and 'resume' in io.err
    code, io = _run(tmp_path / 'a', "{'epochs': 2, 'batch_size': 128, 'resume': True}", capsys)
    assert code == 0, io.err
    code, io = _run(tmp_path / 'b', "{'epochs': 2, 'batch_size': 128}", capsys)
    assert code == 0, io.err
    ra, rb = RunResult.load(tmp_path / 'a' / 'metrics.json'), RunResult.load(tmp_path / 'b' / 'metrics.json')
    assert ra.history[0] == one.history[0]               # epoch 1 came from the checkpoint, it was not retrained
    assert [h['loss'] for h in ra.history] == [h['loss'] for h in rb.history]
    wa, wb = load_run(tmp_path / 'a').modules['model'].state_dict(), load_run(tmp_path / 'b').modules['model'].state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wb)  # 1 epoch + resume to 2 == 2 straight, bit for bit
    # time summed over both processes: the resumed total starts from what the epoch-1 checkpoint recorded
    # (the first process's final evaluation came after that checkpoint, so it is not compared against)
    assert ra.wall_time_s > first_s > 0
    assert load_checkpoint_file(tmp_path / 'a' / CHECKPOINT)['elapsed_s'] > first_s
    # eval reproduces every metric the run wrote for its own checkpoint (other recipes: tests/test_notebooks.py)
    assert main(['eval', str(tmp_path / 'b'), '--data', 'default', '--test-samples', '200', '--out', str(tmp_path / 'e')]) == 0
    ev = RunResult.load(tmp_path / 'e' / 'metrics.json')
    assert ev.tests == rb.tests and ev.recipe == 'supervised' and ev.extra['epoch'] == 2
    # ... and on a test set given as a file (a PoseSet npz): the same poses give the same metrics
    _, tests = experiment_data('default', None, 1.0, 200)
    tests['default_S9_S11'].save(tmp_path / 'my_test.npz')
    assert main(['eval', str(tmp_path / 'b'), '--data', f"default+{tmp_path / 'my_test.npz'}", '--test-samples', '200',
                 '--out', str(tmp_path / 'f')]) == 0
    ev = RunResult.load(tmp_path / 'f' / 'metrics.json')
    strip = lambda t: {k: v for k, v in t.items() if k != 'protocol'}
    assert strip(ev.tests['my_test']) == strip(rb.tests['default_S9_S11'])
    assert ev.tests['my_test']['protocol']['align'] == 'none'
    # lift: --format npz / csv are the reader's arrays (an npz of Human3.6M-layout pixels, as the run was trained on)
    full = experiment_data('default', None, 1.0, None)[1]['default_S9_S11']
    clip = full[np.flatnonzero(full.sequence == full.sequence[0])[:40]]          # 40 consecutive frames of one video
    np.savez(tmp_path / 'kp.npz', keypoints=clip.pose2d.numpy(), image_size=clip.camera[0, 4:6].numpy().astype(int))
    capsys.readouterr()
    for fmt in ('npz', 'auto'):
        code = main(['lift', str(tmp_path / 'kp.npz'), '--model', str(tmp_path / 'b'), '--out', str(tmp_path / f'lift_{fmt}'),
                     '--format', fmt, '--layout', 'h36m17', '--no-bvh', '--no-html'])
        assert code == 0, capsys.readouterr().err
    assert np.array_equal(np.load(tmp_path / 'lift_npz' / 'kp.npz')['pose3d_mm'], np.load(tmp_path / 'lift_auto' / 'kp.npz')['pose3d_mm'])
    assert main(['lift', str(tmp_path / 'kp.npz'), '--model', str(tmp_path / 'b'), '--out', str(tmp_path / 'x'),
                 '--format', 'csv', '--layout', 'h36m17']) == 2
    assert '--format csv needs a .csv file' in capsys.readouterr().err


def test_run_failing_cell_exit_code(tmp_path, capsys):
    code = main(['run', 'train_supervised', '-p', 'method', "{'model': 'no_such_model'}", '-p', 'train_fraction', '0.01',
                 '--out', str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert 'raised ValueError' in err and 'no_such_model' in err and 'cell ' in err and 'Traceback' not in err


def test_user_errors_are_one_line_with_exit_2(tmp_path, capsys):
    assert main(['run', 'train_supervised', '-p', 'seed', 'big', '--out', str(tmp_path)]) == 2
    assert "parameter 'seed' expects int" in capsys.readouterr().err
    assert not tmp_path.joinpath('train_supervised.ipynb').exists()
    assert main(['report', str(tmp_path / 'missing')]) == 2
    assert main(['eval', str(tmp_path / 'nothing_here')]) == 2
    assert 'no such file' in capsys.readouterr().err


def test_python_dash_m_is_the_command():
    r = subprocess.run([sys.executable, '-m', 'posebench', 'list'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and 'train_supervised' in r.stdout
    r = subprocess.run([sys.executable, '-m', 'posebench', 'report', '/no/such/dir'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'does not exist' in r.stderr


def test_demo_beats_untrained_by_a_clear_margin(tmp_path, capsys):
    # the demo's own model and recipe, on a quarter of the data for 2 epochs (the real demo: all of it, more epochs)
    code = main(['demo', '--out', str(tmp_path), '--epochs', '2', '--train-fraction', '0.25', '--device', 'cpu'])
    out = capsys.readouterr().out
    assert code == 0, out
    res = RunResult.load(tmp_path / 'metrics.json')
    assert res.options['model_kwargs'] == DEMO['method']['model_kwargs'] and res.train_config['batch_size'] == DEMO['train']['batch_size']
    for k, t in res.tests.items():
        assert t['mpjpe'] < 0.5 * res.extra['untrained'][k]['mpjpe'], (t['mpjpe'], res.extra['untrained'][k]['mpjpe'])
    assert 'untrained' in out and 'executed notebook' in out and 'curves.png' in out and '| simple_baseline (demo) |' in out


def test_cell_timeout_is_one_line(tmp_path, capsys):
    code = main(['run', 'train_supervised', *TINY, '-p', 'train', "{'epochs': 50}", '--timeout', '2', '--out', str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and 'ran longer than the 2.0 s limit' in err and len(err.strip().splitlines()) == 1


def test_bad_options_fail_before_any_work(tmp_path, capsys):
    "Impossible option values are one line, exit 2, before a notebook starts; eval never replaces a run's metrics.json."
    for argv, msg in [(['demo', '--epochs', '0', '--out', str(tmp_path / 'd')], '--epochs: expected >= 1, got 0'),
                      (['demo', '--train-fraction', '1.5', '--out', str(tmp_path / 'd')], 'expected a fraction in (0, 1], got 1.5'),
                      (['run', 'train_supervised', '--timeout', '0', '--out', str(tmp_path / 'r')], 'seconds per cell > 0, got 0.0')]:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert msg in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / 'd').exists() and not (tmp_path / 'r').exists()
    (tmp_path / 'run').mkdir(); (tmp_path / 'run' / 'metrics.json').write_text('{}')
    assert main(['eval', str(tmp_path / 'run'), '--out', str(tmp_path / 'run')]) == 2
    assert 'already holds a metrics.json' in capsys.readouterr().err
    assert (tmp_path / 'run' / 'metrics.json').read_text() == '{}'
