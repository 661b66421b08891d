"posebench.bench: a tiny bench end to end through papermill, resumability, failures, paired-seed claims, data."
import json
import os
import numpy as np
from posebench.data import load_benchmark
from pathlib import Path
import pytest
from posebench.bench import (Job, load_runs, BUDGETS, CLAIMS, bench_jobs, bench_parameters, evaluate_claims, claims_markdown,
                             paired_interval, prepare_data, run_bench, regenerate_report, markdown_to_html, is_bench_dir,
                             publish_report)
from posebench.experiments import notebook_parameters, check_parameters
from posebench.recipe import RunResult
import posebench

os.environ.setdefault('OMP_NUM_THREADS', '1')
TINY_COMMON = {'train_fraction': 0.02, 'test_samples': 200, 'eval_samples': 100, 'train': {'epochs': 1, 'batch_size': 128}}


def _tiny(name, model, kw):
    return Job(name, 'train_supervised', 'tiny', {**TINY_COMMON, 'method': {'model': model, 'model_kwargs': kw}, 'label': name},
               {name: name})


@pytest.fixture(scope='module')
def tiny_bench(tmp_path_factory):
    "A 1-epoch bench on the default data with 2 seeds: one method, and one job whose notebook fails."
    out = tmp_path_factory.mktemp('bench')
    jobs = [_tiny('simple_baseline', 'simple_baseline', {'width': 16, 'blocks': 1}),
            Job('broken', 'train_supervised', 'tiny', {**TINY_COMMON, 'method': {'model': 'no_such_model'}}, {'broken': 'broken'})]
    s = run_bench('default', out, device='cpu', seeds=2, jobs=jobs, cross=[], log=lambda m: None, train={'lr': 3e-3})
    return out, s


def test_tiny_bench_end_to_end(tiny_bench):
    out, s = tiny_bench
    assert s['ok'] == 2 and sorted(s['failed']) == ['broken/seed0', 'broken/seed1']
    md, html = (out / 'report.md').read_text(), (out / 'report.html').read_text()
    for name in ('simple_baseline',):
        assert f'| {name} |' in md and f'<td>{name}</td>' in html
        rec = json.loads((out / 'runs' / name / 'seed1' / 'bench.json').read_text())
        assert rec['status'] == 'ok' and rec['parameters']['seed'] == 1 and rec['parameters']['device'] == 'cpu'
        assert rec['parameters']['train'] == {'epochs': 1, 'batch_size': 128, 'resume': True, 'lr': 3e-3}
        # the bench's TrainConfig override (`train=`, `--train`) reached the run itself
        assert RunResult.load(out / rec['rows'][name]).train_config['lr'] == 3e-3
    cfg = json.loads((out / 'bench_config.json').read_text())
    assert cfg['train'] == {'lr': 3e-3} and cfg['code']['version'] == posebench.__version__
    assert ' ± ' in md                                          # two seeds: mean ± std
    assert 'default_S9_S11 mpjpe' in md and 'wall time' in md and '## Paper claims on this data' in md
    assert 'data:image/png;base64,' in html and '<table>' in html
    assert is_bench_dir(out) and not is_bench_dir(out / 'runs')
    err = json.loads((out / 'runs' / 'broken' / 'seed0' / 'error.json').read_text())
    assert err['status'] == 'failed' and err['cell'] is not None and 'no_such_model' in err['error']
    assert '| broken | 0 | failed |' in md


def test_resume_skips_finished_runs(tiny_bench):
    out, _ = tiny_bench
    before = (out / 'runs' / 'simple_baseline' / 'seed0' / 'bench.json').read_text()
    logs = []
    s = run_bench('default', out, device='cpu', seeds=1, jobs=[_tiny('simple_baseline', 'simple_baseline', {'width': 16, 'blocks': 1})],
                  cross=[], log=logs.append)
    assert s['skipped'] == 1 and any('skip simple_baseline' in m for m in logs)
    assert (out / 'runs' / 'simple_baseline' / 'seed0' / 'bench.json').read_text() == before
    assert regenerate_report(out).is_file()


def test_publish_report_has_no_machine_paths(tiny_bench, tmp_path):
    import shutil
    out = tmp_path / 'bench'; shutil.copytree(tiny_bench[0], out)
    data_dir = tmp_path / 'my_data' / 'hdm05'; data_dir.mkdir(parents=True)
    cfg = json.loads((out / 'bench_config.json').read_text())           # where the data and the runs lay on this machine
    cfg['spec']['roots'] = {'hdm05': str(data_dir / 'hdm05_h36m17.npz')}
    (out / 'bench_config.json').write_text(json.dumps(cfg))
    err = json.loads((out / 'runs' / 'broken' / 'seed0' / 'error.json').read_text())
    err['error'] = f"(see {out}/runs/broken/seed0/run.ipynb, data {data_dir}) " + err['error']
    (out / 'runs' / 'broken' / 'seed0' / 'error.json').write_text(json.dumps(err))
    dest = tmp_path / 'published'
    md = publish_report(out, dest)
    files = sorted(f.name for f in dest.iterdir())
    assert files == ['bench_config.json', 'bench_wall.json', 'figures', 'report.html', 'report.md', 'results.json']
    for f in dest.iterdir():
        if f.is_file(): assert str(out) not in f.read_text() and str(tmp_path / 'my_data') not in f.read_text(), f.name
        if f.is_file(): assert str(tiny_bench[0]) not in f.read_text(), f.name     # where it ran before it was copied
    assert str(out) in (out / 'report.md').read_text()                     # the bench's own report names the paths
    assert '<bench>/runs/broken/seed0/run.ipynb, data <hdm05 data>' in md.read_text()
    assert json.loads((dest / 'bench_config.json').read_text())['spec']['roots'] == {'hdm05': '<hdm05 data>'}
    res = json.loads((dest / 'results.json').read_text())
    assert sorted((r['method'], r['seed']) for r in res) == [('simple_baseline', 0), ('simple_baseline', 1)]
    assert res[0]['tests']['default_S9_S11']['mpjpe'] > 0
    # a folder that is not a published report is never replaced; publishing again replaces the earlier one
    other = tmp_path / 'notes'; other.mkdir(); (other / 'mine.txt').write_text('keep')
    with pytest.raises(ValueError, match='not a published report'): publish_report(out, other)
    assert (other / 'mine.txt').read_text() == 'keep' and publish_report(out, dest).is_file()
    with pytest.raises(ValueError, match='outside the bench'): publish_report(out, out / 'pub')
    # the same through the command line: one bench folder only
    from posebench.cli import main
    assert main(['report', str(out), '--publish', str(tmp_path / 'cli_pub')]) == 0
    assert json.loads((tmp_path / 'cli_pub' / 'results.json').read_text()) == res
    assert main(['report', str(out), str(out), '--publish', str(tmp_path / 'x')]) == 2 and not (tmp_path / 'x').exists()


def _row(method, seed, value, train='default', test='default_S9_S11'):
    "A bench row as `load_runs` gives it: a RunResult with a `bench` record."
    r = RunResult(method, 'supervised', {test: {'mpjpe': value, 'p_mpjpe': value}})
    r.bench = {'seed': seed, 'train': train, 'intra_test': test, 'cross_tests': ['cmu']}
    return r


def test_claims_paired_seeds_and_verdicts():
    c = [dict(id='x', paper='P', text='A beats B', a='A', b='B', metric='mpjpe', tests='intra', group=None)]
    one = evaluate_claims([_row('A', 0, 40.), _row('B', 0, 60.)], c)[0]
    assert one['verdict'] == 'inconclusive' and one['comparisons'][0]['n'] == 1       # one seed never holds
    assert '-20.0 n = 1: no interval (one seed)' in claims_markdown([one]) and 'inf' not in claims_markdown([one])
    holds = evaluate_claims([_row('A', s, 40. + s) for s in range(3)] + [_row('B', s, 50. + s) for s in range(3)], c)[0]
    assert holds['verdict'] == 'holds' and holds['comparisons'][0]['mean'] == -10.
    contra = evaluate_claims([_row('A', s, 60. + s) for s in range(3)] + [_row('B', s, 50. + 1.1 * s) for s in range(3)], c)[0]
    assert contra['verdict'] == 'contradicted'
    noisy = evaluate_claims([_row('A', s, v) for s, v in enumerate((40., 70., 50.))] + [_row('B', s, 55.) for s in range(3)], c)[0]
    assert noisy['verdict'] == 'inconclusive'
    unpaired = evaluate_claims([_row('A', 0, 40.), _row('B', 1, 60.)], c)[0]
    assert unpaired['verdict'] == 'not run'
    md = claims_markdown([holds])
    assert '**holds**' in md and '-10.0 [' in md and 'n = 3' in md
    # rows trained on the cross dataset carry ' [train X]' in their label: the same arms, judged as a second comparison
    cx = [dict(c[0], tests='cross')]
    rows = ([_row('A', s, 40. + s, test='t1') for s in range(3)] + [_row('B', s, 50. + s, test='t1') for s in range(3)]
            + [_row('A [train cmu]', s, 70. + s, train='cmu', test='t1') for s in range(3)]
            + [_row('B [train cmu]', s, 60. + 1.1 * s, train='cmu', test='t1') for s in range(3)])
    for r in rows: r.bench['cross_tests'] = ['t1']
    both = evaluate_claims(rows, cx)[0]
    assert [(x['train'], x['verdict']) for x in both['comparisons']] == [('default', 'holds'), ('cmu', 'contradicted')]
    assert both['verdict'] == 'inconclusive'                 # the two directions disagree


def test_paired_interval_by_hand():
    r = paired_interval([-1., -3.])                                 # mean −2, sd √2, t(0.975, 1) = 12.706
    assert abs(r['lo'] - (-2 - 12.706 * 2 ** 0.5 / 2 ** 0.5)) < 1e-9 and r['verdict'] == 'inconclusive'


@pytest.mark.parametrize('budget', list(BUDGETS))
def test_every_job_passes_its_notebooks_parameter_check(budget):
    data = {'data': 'default', 'data_root': {'default': None}}
    for j in bench_jobs(['cmu']):
        defaults = notebook_parameters(j.notebook)
        check_parameters(bench_parameters(j, defaults, data, budget), defaults, j.notebook)
    labels = {lab for j in bench_jobs() for lab in j.rows}
    assert all(c['a'] in labels and c['b'] in labels for c in CLAIMS)


def test_prepare_data_real_pair(tmp_path, hdm05_npz, cmu_npz):
    spec = prepare_data('hdm05', tmp_path, root=str(hdm05_npz), cross=[f'cmu={cmu_npz}'])
    assert spec['intra_test'] == 'hdm05_mm_tr' and spec['cross_tests'] == ['cmu_cmu09_cmu12_cmu14']
    main, cross = spec['main'], spec['cross']['cmu']
    assert main['data'].startswith('hdm05+') and cross['data'].startswith('cmu+')
    # both directions test on the same two test splits (each dataset's standard one), named by the split, not a path
    tr_h, te_h = load_benchmark(main['data'], root=main['data_root'])
    tr_c, te_c = load_benchmark(cross['data'], root=cross['data_root'])
    assert set(te_h) == set(te_c) == {'hdm05_mm_tr', 'cmu_cmu09_cmu12_cmu14'}
    for k in te_h: assert np.array_equal(te_h[k].pose3d, te_c[k].pose3d)
    assert set(tr_h.subject) == {'bd', 'bk', 'dg'} and not set(tr_c.subject) & set(te_c['cmu_cmu09_cmu12_cmu14'].subject)


def test_bench_on_cmu_across_to_hdm05(tmp_path, hdm05_npz, cmu_npz):
    "`--data cmu --cross hdm05`: one tiny job trained on CMU and on HDM05, both tested on both standard test splits."
    jobs = [_tiny('simple_baseline', 'simple_baseline', {'width': 16, 'blocks': 1}),
            Job('simple_baseline@hdm05', 'train_supervised', 'tiny',
                {**TINY_COMMON, 'method': {'model': 'simple_baseline', 'model_kwargs': {'width': 16, 'blocks': 1}},
                 'label': 'sb [train hdm05]'}, {'sb [train hdm05]': 'sb [train hdm05]'}, train='hdm05')]
    s = run_bench('cmu', tmp_path, root=str(cmu_npz), cross=[f'hdm05={hdm05_npz}'], device='cpu', seeds=1, jobs=jobs,
                  log=lambda m: None)
    assert s['ok'] == 2 and not s['failed']
    rows, _ = load_runs(tmp_path)
    assert all(isinstance(r, RunResult) for r in rows)
    tests = {r.method: set(r.tests) for r in rows}
    assert tests == {'simple_baseline': {'cmu_cmu09_cmu12_cmu14', 'hdm05_mm_tr'}, 'sb [train hdm05]': {'cmu_cmu09_cmu12_cmu14', 'hdm05_mm_tr'}}
    md = (tmp_path / 'report.md').read_text()
    assert '| cmu_cmu09_cmu12_cmu14 mpjpe | cmu_cmu09_cmu12_cmu14 p_mpjpe |' in md and '| sb [train hdm05] |' in md


def test_prepare_data_h36m_files(tmp_path):
    "--data h36m with a folder of VideoPose3D-format files written here (tiny, real format): pickle needs the opt-in."
    from test_data import _write_h36m
    (tmp_path / 'h36m').mkdir(); _write_h36m(tmp_path / 'h36m')
    with pytest.raises(ValueError, match='allow_pickle'): prepare_data('h36m', tmp_path / 'b0', root=str(tmp_path / 'h36m'), cross=[])
    spec = prepare_data('h36m', tmp_path / 'bench', root=str(tmp_path / 'h36m'), cross=[], data_options={'allow_pickle': True})
    assert spec['main']['data'] == 'h36m' and spec['intra_test'] == 'h36m_S9_S11'
    assert spec['main']['data_options'] == {'allow_pickle': True} and (tmp_path / 'bench' / 'data' / 'h36m_S9_S11.npz').is_file()


def test_bad_data_is_refused(tmp_path):
    with pytest.raises(ValueError, match="expected one of"): prepare_data('h37m', tmp_path)
    with pytest.raises(ValueError, match="file not found"): prepare_data(str(tmp_path / 'x.npz'), tmp_path)


def test_markdown_to_html_embeds_images(tmp_path):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    plt.figure(); plt.plot([1, 2]); plt.savefig(tmp_path / 'f.png'); plt.close()
    h = markdown_to_html('# Title\n\n| a | b |\n| --- | --- |\n| 1 | **2** |\n\n![fig](f.png)\n', base=tmp_path)
    assert '<h1>Title</h1>' in h and '<strong>2</strong>' in h and 'data:image/png;base64,' in h


def test_damaged_bench_records_name_the_file(tmp_path):
    "A damaged bench_config.json or bench_wall.json is named in the error; NaN paired differences are refused."
    (tmp_path / 'runs').mkdir(); (tmp_path / 'bench_config.json').write_text('{oops')
    with pytest.raises(ValueError, match=r"bench_config\.json: cannot be read as JSON"): regenerate_report(tmp_path)
    (tmp_path / 'bench_config.json').write_text('{}'); (tmp_path / 'bench_wall.json').write_text('[{')
    with pytest.raises(ValueError, match=r"bench_wall\.json: cannot be read as JSON"): regenerate_report(tmp_path)
    with pytest.raises(ValueError, match=r"differences must be finite, got \[nan, 1\.0\]"): paired_interval([float('nan'), 1.])


def test_train_override_is_checked_before_any_work(tmp_path, capsys):
    "`posebench bench --train` takes a dict of TrainConfig fields; anything else is one line, exit 2, nothing written."
    from posebench.cli import main
    for text, msg in [('[1]', 'expected a dict of TrainConfig fields'), ("{'nope': 1}", "unknown keys ['nope']"),
                      ("{'amp': 'yes'}", 'TrainConfig.amp'), ("{'seed': 3}", 'set by the bench itself')]:
        assert main(['bench', '--out', str(tmp_path / 'b'), '--cross', '--train', text]) == 2
        err = capsys.readouterr().err.strip()
        assert msg in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / 'b').exists()


PAPER_ROWS = {   # row label -> (job, method name the notebook writes): the arms as the papers' tables name them
    'SimpleBaseline + PG': ('posegu', 'simple_baseline (PG)'),                              # PoseGU Tables 4-6
    'SimpleBaseline + PoseGU (CRM ✗)': ('posegu', 'simple_baseline (PoseGU without CRM)'),
    'SimpleBaseline + PoseGU': ('posegu', 'simple_baseline (PoseGU)'),
    'Full 2D Pose Network': ('hardy', 'hardy_full[gt-scale]'),                                       # Hardy et al. Tables 1-2
    'Split-Combine Leg and Torso Network': ('hardy', 'hardy_split_legs_torso[gt-scale]'),
    'Independent Leg and Torso Network': ('hardy', 'hardy_independent_legs_torso[gt-scale]'),
    'Split-Combine 5 Limbs Network': ('hardy', 'hardy_split_limbs5[gt-scale]'),
    'Independent 5 Limbs Network': ('hardy', 'hardy_independent_limbs5[gt-scale]'),
    'DOF Baseline': ('dof_baseline', 'dof_baseline'),                                      # DOF Table 6 + the source
    'DOF Progressive': ('dof_progressive', 'dof_progressive'),
    'DOF Progressive + Attr (attributes: GT corrupted to 84 %)': ('dof_progressive_attr', 'dof_progressive_attr[noisy_gt]'),
    'SimpleBaseline (PoseAug baseline arm)': ('poseaug', 'simple_baseline'),               # PoseAug Table 4
    'SimpleBaseline + PoseAug': ('poseaug', 'simple_baseline + PoseAug'),
    'SVMAC n = 1': ('svmac_n1', 'svmac_n1'), 'SVMAC n = 2': ('svmac_n2', 'svmac_n2'),       # SVMAC Table 4
}


def test_row_labels_and_claims_name_the_papers_tables():
    jobs = {j.name: j for j in bench_jobs()}
    for label, (job, method) in PAPER_ROWS.items(): assert jobs[job].rows.get(label) == method, label
    # the DOF row's accuracy is the one its job runs with, not a hard-coded string
    dof = jobs['dof_progressive_attr']
    assert dof.params['method']['attr_accuracy'] == 0.84 == bench_parameters(
        dof, notebook_parameters('train_dof'), {'data': 'default', 'data_root': {}})['method']['attr_accuracy']
    papers = {c['id']: c['paper'] for c in CLAIMS}
    assert papers['poseaug_cross'].startswith('PoseAug (Zhang et al. 2021), Table 4 (MPJPE on 3DHP')   # its measure
    assert papers['hardy_independent'].startswith('Hardy et al. 2022, Table 1')      # protocol II = P-MPJPE, intra
    assert {(c['id'], c['a'], c['b']) for c in CLAIMS if c['id'].startswith(('posegu', 'hardy'))} == {
        ('posegu_pg', 'SimpleBaseline + PoseGU', 'SimpleBaseline + PG'),
        ('posegu_crm', 'SimpleBaseline + PoseGU', 'SimpleBaseline + PoseGU (CRM ✗)'),
        ('hardy_independent', 'Independent Leg and Torso Network', 'Full 2D Pose Network')}


def test_report_relabels_finished_runs_from_the_current_jobs(tiny_bench, tmp_path):
    "A row renamed in the jobs relabels runs that finished under the old label, without re-running them."
    import shutil
    out = tmp_path / 'bench'; shutil.copytree(tiny_bench[0], out)
    rec_file = out / 'runs' / 'simple_baseline' / 'seed0' / 'bench.json'
    rec = json.loads(rec_file.read_text())
    (out / 'runs' / 'dof_baseline' / 'seed0').mkdir(parents=True)           # an old run of a real job, old label
    m = RunResult.load(out / rec['rows']['simple_baseline']); m.method = 'dof_baseline'
    m.save(out / 'runs' / 'dof_baseline' / 'seed0' / 'metrics.json')
    (out / 'runs' / 'dof_baseline' / 'seed0' / 'bench.json').write_text(json.dumps(
        {**rec, 'job': 'dof_baseline', 'rows': {'old DOF label': 'runs/dof_baseline/seed0/metrics.json'}}))
    rows, _ = load_runs(out)
    assert sorted({r.method for r in rows}) == ['DOF Baseline', 'simple_baseline']   # renamed; a custom job keeps its own
    assert '| DOF Baseline |' in regenerate_report(out).read_text()
