"posebench.bench: tiny bench end to end through papermill, resumability, failures, claims, data preparation."
import json
import os
from pathlib import Path

import pytest

from posebench.bench import (Job, bench_jobs, bench_parameters, evaluate_claims, claims_markdown, find_results,
                             select_results, prepare_data, run_bench, regenerate_report, markdown_to_html,
                             is_bench_dir, add_bench_parser, bench_main)

os.environ.setdefault('OMP_NUM_THREADS', '1')


def _tiny(name, model, kw):
    return Job(name, 'train_supervised', 'tiny', {'model': model}, {name: (name, None)},
               options={'model_kwargs': kw, 'epochs': 1, 'train_fraction': 0.02, 'method': name,
                        'eval_samples': 200})


TINY = [_tiny('simple_baseline', 'simple_baseline', {'width': 16, 'blocks': 1}),
        _tiny('videopose', 'videopose', {'channels': 16, 'blocks': 1})]


@pytest.fixture(scope='module')
def tiny_bench(tmp_path_factory):
    "A 2-method, 1-epoch bench on the default data plus one job whose notebook fails."
    out = tmp_path_factory.mktemp('bench')
    broken = Job('broken', 'train_supervised', 'tiny', {'model': 'no_such_model'}, {'broken': ('broken', None)},
                 options={'epochs': 1, 'train_fraction': 0.02})
    s = run_bench('default', out, device='cpu', jobs=TINY + [broken], cross=False, log=lambda m: None)
    return out, s


def test_tiny_bench_end_to_end(tiny_bench):
    out, s = tiny_bench
    assert s['ok'] == 2 and s['failed'] == ['broken/seed0']
    md = (out / 'report.md').read_text()
    html = (out / 'report.html').read_text()
    for name in ('simple_baseline', 'videopose'):
        assert f'| {name} |' in md and f'<td>{name}</td>' in html
        rec = json.loads((out / 'runs' / name / 'seed0' / 'bench.json').read_text())
        assert rec['status'] == 'ok' and rec['parameters']['epochs'] == 1 and rec['parameters']['device'] == 'cpu'
        row = rec['results'][0]
        assert row['bench']['intra_test'] == 'default_S9_S11' and row['tests']['default_S9_S11']['mpjpe'] > 0
        assert (out / 'runs' / name / 'seed0' / 'train_supervised.ipynb').is_file()   # the executed notebook
    assert 'default_S9_S11 mpjpe' in md and 'wall time' in md and '| cpu |' in md
    assert '## Paper claims on this data' in md and 'not run' in md
    assert 'data:image/png;base64,' in html and '<table>' in html        # self-contained, figures inlined
    assert (out / 'figures' / 'curves.png').is_file() and (out / 'figures' / 'per_joint.png').is_file()
    assert is_bench_dir(out) and not is_bench_dir(out / 'runs')


def test_failed_run_is_reported(tiny_bench):
    out, _ = tiny_bench
    err = json.loads((out / 'runs' / 'broken' / 'seed0' / 'error.json').read_text())
    assert err['status'] == 'failed' and err['cell'] is not None and 'no_such_model' in err['error']
    assert 'no_such_model' in (out / 'runs' / 'broken' / 'seed0' / 'error.txt').read_text()
    assert not (out / 'runs' / 'broken' / 'seed0' / 'bench.json').exists()
    md = (out / 'report.md').read_text()
    assert '| broken | 0 | failed |' in md and f"cell {err['cell']}" in md


def test_resume_skips_finished_runs(tiny_bench):
    out, _ = tiny_bench
    f = out / 'runs' / 'simple_baseline' / 'seed0' / 'bench.json'
    before = f.stat().st_mtime_ns
    lines = []
    s = run_bench('default', out, device='cpu', jobs=TINY, cross=False, report=False, log=lines.append)
    assert s['skipped'] == 2 and s['ok'] == 2 and not s['failed']
    assert f.stat().st_mtime_ns == before and sum(l.startswith('[bench] skip') for l in lines) == 2
    md = regenerate_report(out)                        # `posebench report DIR` path
    assert md.read_text().count('| simple_baseline |') >= 1


def _row(key, train, intra, cross, mp=None, pm=None, distal=None, seed=0):
    tests = {intra: {'mpjpe': mp, 'p_mpjpe': pm, 'per_group': {'distal': distal}}}
    tests.update({t: {'mpjpe': v, 'p_mpjpe': v} for t, v in cross.items()})
    return {'method': key, 'tests': tests,
            'bench': {'key': key, 'train': train, 'intra_test': intra, 'cross_tests': list(cross), 'seed': seed}}


def test_claims_on_hand_made_results():
    rows = [_row('poseaug.base', 'hdm05', 'h', {'d': 100.}, 60.), _row('poseaug.aug', 'hdm05', 'h', {'d': 90.}, 99.),
            _row('svmac_n1', 'hdm05', 'h', {}, 90., 70.), _row('svmac_n2', 'hdm05', 'h', {}, 95., 75.),
            _row('hardy_full', 'hdm05', 'h', {}, 80., 60.),
            _row('dof_baseline', 'hdm05', 'h', {}, 70., 50., 110.),
            _row('dof_progressive_attr', 'hdm05', 'h', {}, 60., 40., 120.),
            _row('posegu.generated', 'hdm05', 'h', {}, 200.), _row('posegu.crm', 'hdm05', 'h', {}, 150.)]
    v = {c['id']: c for c in evaluate_claims(rows)}
    # PoseAug judged on the cross test only (its worse intra number does not matter)
    assert v['poseaug_cross']['verdict'] == 'holds' and v['poseaug_cross']['comparisons'][0]['test'] == 'd'
    assert v['svmac_n']['verdict'] == 'does not hold'                 # P-MPJPE 75 vs 70
    assert v['hardy_independent']['verdict'] == 'not run'             # independent lifter missing
    assert v['dof_distal']['verdict'] == 'does not hold'              # better mean, worse distal group
    assert v['posegu_crm']['verdict'] == 'holds'
    md = claims_markdown(list(v.values()))
    assert md.count('\n') == 6 and '**not run**' in md and '+10.0' in md   # dof distal: 120 vs 110


def test_claims_mean_over_seeds_and_noise():
    rows = [_row('svmac_n1', 'hdm05', 'h', {}, 0., 70., seed=0), _row('svmac_n1', 'hdm05', 'h', {}, 0., 80., seed=1),
            _row('svmac_n2', 'hdm05', 'h', {}, 0., 74., seed=0), _row('svmac_n2', 'hdm05', 'h', {}, 0., 75., seed=1)]
    c = next(c for c in evaluate_claims(rows) if c['id'] == 'svmac_n')
    x = c['comparisons'][0]
    assert c['verdict'] == 'holds' and x['a'] == 74.5 and x['b'] == 75. and x['seeds'] == 2 and x['within_noise']


def test_mixed_verdict_across_cross_directions():
    rows = [_row('poseaug.base', 'hdm05', 'h', {'d': 100.}), _row('poseaug.aug', 'hdm05', 'h', {'d': 90.}),
            _row('poseaug.base', 'default', 'd', {'h': 100.}), _row('poseaug.aug', 'default', 'd', {'h': 110.})]
    assert evaluate_claims(rows)[0]['verdict'] == 'mixed'


def test_bench_parameters_and_jobs():
    jobs = {j.name: j for j in bench_jobs('default')}
    assert {'simple_baseline', 'videopose', 'semgcn', 'stgcn', 'poseaug', 'posegu', 'svmac_n1', 'svmac_n2', 'hardy',
            'dof_baseline', 'dof_progressive', 'dof_progressive_attr', 'simple_baseline@default',
            'poseaug@default'} == set(jobs)
    d = {'data': 'default', 'data_root': None, 'model': 'x', 'model_kwargs': {}, 'epochs': 8, 'data_fraction': 1.,
         'device': 'auto', 'seed': 0, 'method': '', 'progress': True}
    p, dropped = bench_parameters(jobs['videopose'], d, {'data': 'hdm05+/x/d.npz', 'root': '/x/h.npz'}, 'full', 2, 'cuda')
    assert p['data'] == 'hdm05+/x/d.npz' and p['data_root'] == '/x/h.npz' and p['epochs'] == 80 and p['seed'] == 2
    assert p['device'] == 'cuda' and p['model'] == 'videopose' and p['progress'] is False and 'lr' in dropped
    with pytest.raises(ValueError, match='n_angles'):
        bench_parameters(jobs['svmac_n1'], d, {'data': 'default'})
    with pytest.raises(ValueError, match='budget'):
        bench_parameters(jobs['videopose'], d, {'data': 'default'}, 'huge')


@pytest.mark.parametrize('budget', ['quick', 'full'])
def test_every_job_passes_its_notebooks_parameter_check(budget):
    "Each real job's parameters have the types its experiment notebook declares (what run_notebook checks first)."
    from posebench.experiments import notebook_parameters, check_parameters
    for job in bench_jobs('default'):
        defaults = notebook_parameters(job.notebook)
        params, _ = bench_parameters(job, defaults, {'data': 'hdm05+/x/d.npz', 'root': '/x/h.npz'}, budget, 1, 'cpu')
        check_parameters(params, defaults, job.notebook)   # raises ValueError naming the parameter


def test_select_results_by_method_name(tmp_path):
    (tmp_path / 'simple_baseline' / 'poseaug').mkdir(parents=True)
    base = {'method': 'simple_baseline', 'tests': {'t': {'mpjpe': 1.}}}
    aug = {'method': 'simple_baseline + PoseAug', 'tests': {'t': {'mpjpe': 2.}}}
    (tmp_path / 'metrics.json').write_text(json.dumps({'experiment': 'poseaug', 'runs': [base, aug]}))
    (tmp_path / 'simple_baseline' / 'poseaug' / 'metrics.json').write_text(json.dumps(aug))
    job = next(j for j in bench_jobs() if j.name == 'poseaug')
    got = select_results(find_results(tmp_path), job)
    assert [r['tests']['t']['mpjpe'] for r in got.values()] == [1., 2.]
    job.methods['x'] = ('x', 'missing method')
    with pytest.raises(ValueError, match='missing method'):
        select_results(find_results(tmp_path), job)


def test_prepare_data(tmp_path, hdm05_npz, monkeypatch):
    monkeypatch.delenv('POSEBENCH_HDM05', raising=False)
    with pytest.raises(ValueError, match='POSEBENCH_HDM05'):
        prepare_data('hdm05', tmp_path)
    with pytest.raises(ValueError, match='expected'):
        prepare_data('nonsense', tmp_path)
    monkeypatch.setenv('POSEBENCH_HDM05', str(hdm05_npz))
    spec = prepare_data('hdm05', tmp_path)
    assert spec['main']['root'] == str(hdm05_npz.resolve()) and spec['intra_test'] == 'hdm05_mm_tr'
    extra = spec['main']['data'].split('+')[1]
    assert Path(extra).name == 'default_S9_S11.npz' and Path(extra).is_file()
    assert spec['cross']['data'].startswith('default+') and spec['cross_tests'] == ['default_S9_S11']
    from posebench.data import PoseSet
    t = PoseSet.load(spec['cross']['data'].split('+')[1])
    assert set(t.subject.tolist()) == {'mm', 'tr'}


def test_cli_parser(tmp_path):
    import argparse
    ap = argparse.ArgumentParser(); sp = ap.add_subparsers()
    add_bench_parser(sp)
    a = ap.parse_args(['bench', '--out', str(tmp_path), '--methods', 'simple_baseline', '--no-cross', '--budget', 'full'])
    assert a.func is bench_main and a.methods == ['simple_baseline'] and a.cross is False and a.budget == 'full'
    with pytest.raises(SystemExit):
        ap.parse_args(['bench', '--out', 'x', '--budget', 'slow'])
    with pytest.raises(ValueError, match='methods'):
        run_bench('default', tmp_path, methods=['nope'], cross=False)


def test_markdown_to_html_embeds_images(tmp_path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(); ax.plot([0, 1]); fig.savefig(tmp_path / 'a.png'); plt.close(fig)
    h = markdown_to_html('# R\n\n![x](a.png)\n\n| m | v |\n| --- | --- |\n| a | 1 |\n', base=tmp_path)
    assert 'data:image/png;base64,iVBOR' in h and '<td>a</td><td>1</td>' in h and '<h1>R</h1>' in h
