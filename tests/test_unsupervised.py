"Tests of posebench.unsupervised: normalisation, SVMAC generator, Hardy's representation lifters, sensitivity, recipes."
import dataclasses
import json
import math
import pytest
import torch
from posebench.skeleton import H36M17
from posebench.models import count_parameters
from posebench import losses as L
from posebench import unsupervised as U


LEGS, TORSO = H36M17.part('legs_torso', 'legs'), H36M17.part('legs_torso', 'torso')


def _x2d(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 17, 2, generator=g) * 0.2
    x[:, 0] = torch.randn(n, 2, generator=g) * 0.1
    return x


def test_zero_size_pose_raises_before_dividing():
    x = _x2d()
    x[2] = x[2, :1]                                  # every key point on the root
    for f in (U.hardy_normalize, U.svmac_normalize):
        with pytest.raises(ValueError, match=r'zero size.*\[2\]'): f(x)
    with pytest.raises(ValueError, match='shape'): U.hardy_normalize(torch.zeros(3, 17, 3))
    xh = U.hardy_normalize(_x2d())
    assert torch.allclose(xh.abs().flatten(1).amax(1), torch.ones(6)) and (xh[:, 0] == 0).all()
    xs = U.svmac_normalize(_x2d(), c=10)
    assert torch.allclose(xs.norm(dim=-1)[:, 1:].mean(1), torch.full((6,), 0.1), atol=1e-6)


def test_svmac_generator_perspective_model_and_camera_init():
    G = U.SVMACGenerator(width=32, c=10).eval()
    x = U.svmac_normalize(_x2d())
    X, K = G(x)
    assert torch.allclose(X[:, 0], torch.tensor([0., 0., 10.]).expand(6, 3))
    assert torch.allclose(X[..., :2], x * X[..., 2:], atol=1e-6)         # x = u·z, y = v·z
    assert L.weak_camera_loss(K) < 1e-6                                   # K starts as I/c
    assert torch.allclose(G.lift(x)[:, 0], torch.zeros(6, 3))
    with pytest.raises(ValueError): G(torch.zeros(2, 16, 2))


@pytest.mark.parametrize('rep,independent', [('full', False), ('split_legs_torso', False),
                                             ('independent_legs_torso', True), ('split_limbs5', False),
                                             ('independent_limbs5', True)])
def test_independent_lifters_ignore_other_parts(rep, independent):
    net = U.RepresentationLifter(rep, width=24).eval()
    x = U.hardy_normalize(_x2d()).requires_grad_(True)
    d = net(x)
    assert d.shape == (6, 17) and (d[:, 0] == 0).all() and d.abs().max() <= 1
    (g,) = torch.autograd.grad(d[:, TORSO].sum(), x)
    if independent: assert g[:, LEGS].abs().max() == 0
    else: assert g[:, LEGS].abs().max() > 0
    if rep == 'independent_limbs5':   # also between the five limbs
        parts = list(H36M17.part('limbs5').values())
        (g,) = torch.autograd.grad(net(x)[:, parts[0]].sum(), x)
        assert g[:, [j for p in parts[1:] for j in p]].abs().max() == 0


def test_representations_have_near_identical_parameter_counts():
    with torch.device('meta'):
        counts = {r: count_parameters(U.RepresentationLifter(r)) for r in U.REPRESENTATIONS}
    assert max(counts.values()) / min(counts.values()) < 1.01
    assert 12_000_000 < counts['full'] < 13_500_000
    with pytest.raises(ValueError): U.RepresentationLifter('legs')


def test_sensitivity_matrix_of_independent_leg_torso_lifter():
    net = U.RepresentationLifter('independent_legs_torso', width=24)
    x = U.hardy_normalize(_x2d(8))
    M, curves = U.sensitivity(net, x, return_curves=True)
    assert M.shape == (17, 17) and curves.shape == (17, 201, 17)
    assert M[LEGS][:, TORSO].abs().max() == 0 and M[TORSO][:, LEGS].abs().max() == 0
    assert M[LEGS][:, LEGS].sum() > 0 and M[TORSO][:, TORSO].sum() > 0
    assert net.training                                                 # the train/eval mode is restored
    # scale 0 (index 95) leaves the pose unchanged: no change at all
    assert curves[:, 95].abs().max() < 1e-6
    # a hand-made lifter: depth of joint j = 2 · x-coordinate of joint j -> only the diagonal reacts
    M2 = U.sensitivity(lambda p: 2 * p[..., 0], x, joints=[1, 5], scales=torch.tensor([1.0]))
    expect = 2 * (x[:, [1, 5], 0] - x[:, :1, 0]).abs().mean(0)
    assert torch.allclose(M2[:, [1, 5]].diagonal(), expect, atol=1e-6)
    assert M2.sum() == pytest.approx(float(expect.sum()), rel=1e-5)
    with pytest.raises(ValueError): U.sensitivity(net, x, joints=[17])


@pytest.fixture(scope='module')
def tiny_data():
    from posebench.data import load_benchmark
    train, tests = load_benchmark('default')
    return train[:256], {k: v[:96] for k, v in tests.items()}


def _tiny_cfg(**kw):
    from posebench.train import TrainConfig
    return TrainConfig(**{'epochs': 2, 'batch_size': 128, 'device': 'cpu', 'progress': False, 'checkpoint': False, **kw})


def test_svmac_supervision_target_is_exact_in_the_generator_frame(tiny_data):
    train, _ = tiny_data
    ps = train[:64]
    t = U.svmac_supervision_target(ps, c=10.)
    u = U.svmac_normalize(ps.inputs2d().float(), 10.)
    assert torch.allclose(t[:, 0], torch.tensor([0., 0., 10.]).expand(64, 3))             # root at (0, 0, c)
    assert torch.allclose(t[..., :2] / t[..., 2:], u, atol=1e-5)                          # projects to its own input
    # depth offsets are the metric ones up to one scale per pose: (z − c) ∝ (Z − Z_root)
    dz, dZ = t[:, 1:, 2] - 10., (ps.pose3d[:, 1:, 2] - ps.pose3d[:, :1, 2]).float()
    ratio = (dz * dZ).sum(1) / (dZ * dZ).sum(1)
    assert torch.allclose(dz, ratio[:, None] * dZ, atol=1e-4) and (ratio > 0).all()
    # a generator that outputs the right depths z (X = (u·z, z), as SVMACGenerator does) scores exactly zero
    z = t[..., 2]
    perfect = torch.cat([u * z[..., None], z[..., None]], -1)
    assert U.svmac_supervised_loss(perfect, t, torch.ones(64)) == 0
    # hand value: sample 0 off by 1 in every coordinate (error 3); only weighted samples count
    w = torch.zeros(64); w[0] = 1
    assert U.svmac_supervised_loss(t + 1, t, w) == pytest.approx(3.)
    assert U.svmac_supervised_loss(t + (torch.arange(64) == 1)[:, None, None], t, w) == 0


def test_recipes_use_no_3d_labels_and_write_results(tiny_data, tmp_path):
    from posebench.recipe import RunResult
    train, tests = tiny_data
    train = train[:]                                   # a copy: the fixture stays intact
    def boom(*a): raise AssertionError('3D labels of the training set were read')
    train.targets3d = boom
    r = U.train_svmac(train, tests, U.SVMACOptions(n_angles=3, width=32, critic_width=32, critic_blocks=1),
                      _tiny_cfg(), out_dir=tmp_path / 's', eval_samples=48)
    assert r.method == 'svmac_n3' and len(r.history) == 2 and r.protocol['align'] == 'scale' and not r.protocol['allow_reflection']
    assert {'loss_3d', 'loss_svmac', 'loss_cam', 'loss_adv', 'loss_critic', 'default_S9_S11_p_mpjpe'} <= set(r.history[-1])
    t = RunResult.load(tmp_path / 's' / 'metrics.json').tests['default_S9_S11']
    assert t['n'] == 96 and abs(t['mpjpe'] - t['n_mpjpe']) < 1e-3 and t['p_mpjpe'] > 0      # scale-aligned
    r = U.train_representation(train, tests, 'independent_limbs5',
                               U.HardyOptions(width=32, blocks=1, critic_width=32, critic_blocks=1,
                                              allow_reflection=True), _tiny_cfg(epochs=1), eval_samples=48)
    assert r.method == 'hardy_independent_limbs5[gt-scale]' and r.protocol['align'] == 'scale' and r.options['allow_reflection'] and r.protocol['allow_reflection']
    assert {'loss_cycle2d', 'loss_ninety', 'loss_adv', 'loss_critic'} <= set(r.history[0])
    with pytest.raises(ValueError, match='inputs'): U.HardyOptions(inputs='weak')


def test_nan_critic_stops_with_step_number(tiny_data, tmp_path):
    from posebench.train import NonFiniteLossError
    from posebench.recipe import run
    from posebench.models import Critic2D
    train, _ = tiny_data
    nan_critic = {k: v * float('nan') for k, v in Critic2D(17, 16, 1).state_dict().items()}
    with pytest.raises(NonFiniteLossError, match=r"'critic'.*epoch 1, step 0"):
        run(U.SVMACRecipe(U.SVMACOptions(width=32, critic_width=16, critic_blocks=1)), train, None, _tiny_cfg(),
            out_dir=tmp_path, init={'critic': nan_critic})
    assert 'NonFiniteLossError' in json.loads((tmp_path / 'failed.json').read_text())['error']
    assert not (tmp_path / 'metrics.json').exists()


def test_stability_study_and_curves(tmp_path):
    from posebench.recipe import RunResult
    calls = []
    def fake_train(data, tag, cfg=None, out_dir=None, extra=None):
        calls.append((data, tag, cfg.seed, cfg.epochs, out_dir, extra))
        return RunResult('m', 'supervised', {}, history=[{'e': float(cfg.seed + 3)}, {'e': 1.0}, {'e': 2.0 * cfg.seed}])
    runs = U.stability_study(fake_train, (1, 2), 'D', 'T', cfg=_tiny_cfg(epochs=3), out_dir=tmp_path, extra=7)
    assert calls == [('D', 'T', s, 3, tmp_path / f'seed{s}', 7) for s in (1, 2)]
    c = U.stability_curves(runs, 'e')
    assert c['epoch'] == [1, 2, 3] and c['mean'] == [4.5, 1.0, 3.0] and c['std'] == [0.5, 0.0, 1.0] and c['n'] == 2
    summ = U.stability_summary(runs, 'e', window=(2 / 3, 1.0))
    assert summ['last']['mean'] == 3.0 and summ['best']['mean'] == 1.0 and summ['window_epochs'] == [2, 3]
    assert summ['window_mean']['mean'] == pytest.approx(((1 + 2) / 2 + (1 + 4) / 2) / 2)
    assert summ['last']['std'] == pytest.approx(2 ** 0.5)                                   # ddof=1 over the seeds
    with pytest.raises(ValueError): U.stability_curves(runs, 'missing')
    from posebench.viz import plot_stability      # figures are drawn by viz
    fig = plot_stability({**c, 'label': 'x'})
    assert len(fig.data) == 2


@pytest.mark.parametrize('make', [lambda: U.SVMACRecipe(U.SVMACOptions(width=32, critic_width=32, critic_blocks=1)),
                                  lambda: U.HardyRecipe(U.HardyOptions(width=32, blocks=1, critic_width=32, critic_blocks=1))],
                         ids=['svmac', 'hardy'])
def test_adversarial_optimizers_follow_train_config(make):
    "TrainConfig is the one source of optimiser, lr and weight decay (the old code used the options' Adam values)."
    from posebench.models import get_model
    from posebench.train import TrainConfig
    recipe = make()
    modules = {k: get_model(name, H36M17, **kw) for k, (name, kw) in recipe.networks(None).items()}
    opts, _ = recipe.optimizers(TrainConfig(lr=0.1, weight_decay=0.5, optimizer='adamw'), modules)
    assert set(opts) == {'generator', 'critic'}
    for o in opts.values():
        g = o.param_groups[0]
        assert type(o) is torch.optim.AdamW and g['lr'] == 0.1 and g['weight_decay'] == 0.5
        assert g['betas'] == tuple(recipe.opt.betas)                         # the method's own betas stay
    for Opt in (U.SVMACOptions, U.HardyOptions):                             # no second, unused copy of the settings
        with pytest.raises(TypeError): Opt(lr=1e-3)


def test_wrappers_default_to_the_papers_optimiser(tiny_data):
    train, _ = tiny_data
    r = U.train_svmac(train[:64], None, U.SVMACOptions(width=16, critic_width=16, critic_blocks=1))
    assert r.train_config['lr'] == 5.5e-5 and r.train_config['weight_decay'] == 1e-5 and r.train_config['optimizer'] == 'adam'
    assert r.trainer.optimizers['generator'].param_groups[0]['initial_lr'] == 5.5e-5
    r = U.train_representation(train[:64], None, 'full', U.HardyOptions(width=16, blocks=1, critic_width=16, critic_blocks=1))
    assert r.train_config['lr'] == 2e-4 and r.trainer.optimizers['critic'].param_groups[0]['initial_lr'] == 2e-4


class _Oracle(torch.nn.Module):
    "A perfect orthographic lifter: looks up the true max-normalised 3D pose (times `factor`) of each input."
    def __init__(self, ps, factor=1.):
        super().__init__()
        x, s = U.hardy_normalize(ps.targets3d().float()[..., :2], return_scale=True)
        self.keys, self.poses = x.flatten(1), factor * ps.targets3d().float() / s[:, None, None]
    def lift(self, x): return self.poses[torch.cdist(x.flatten(1), self.keys).argmin(1)]


def test_hardy_input_scale_is_metric_without_ground_truth_scale(tiny_data):
    "scale='input' (Hardy et al.'s 3DHP evaluation) undoes the 2D normalisation: a perfect lifter scores 0 mm, align 'none'."
    from posebench.recipe import evaluate
    train, tests = tiny_data
    opts = U.HardyOptions(width=32, blocks=1, critic_width=32, critic_blocks=1, inputs='orthographic', scale='input')
    r = U.train_representation(train, tests, 'full', opts, _tiny_cfg(epochs=1), eval_samples=48)
    assert r.method == 'hardy_full[ortho]' and r.protocol['align'] == 'none'
    assert all(t['protocol']['align'] == 'none' for t in r.tests.values())
    recipe, ps = r.recipe_object, tests['default_S9_S11']
    recipe.modules = {'generator': _Oracle(ps)}
    assert evaluate(recipe.predict_mm, {'t': ps}, recipe.protocol)['t']['mpjpe'] < 1e-3
    recipe.modules = {'generator': _Oracle(ps, 0.5)}                   # half size: no ground-truth scale rescues it
    half = ps.targets3d().float().norm(dim=-1).mean() / 2
    assert evaluate(recipe.predict_mm, {'t': ps}, recipe.protocol)['t']['mpjpe'] == pytest.approx(float(half), rel=1e-4)
    gt = U.HardyRecipe(dataclasses.replace(opts, scale='ground_truth'))  # per-frame alignment hides the wrong size
    gt.modules = recipe.modules
    assert gt.method_name() == 'hardy_full[ortho][gt-scale]' and gt.protocol.align == 'scale'
    assert evaluate(gt.predict_mm, {'t': ps}, gt.protocol)['t']['mpjpe'] < 1e-3
    with pytest.raises(ValueError, match="orthographic"): U.HardyOptions(scale='input')      # perspective: no mm factor
    with pytest.raises(ValueError, match="scale"): U.HardyOptions(inputs='orthographic', scale='pixels')


def test_stability_window_is_epochs_500_to_800_inclusive():
    "Hardy et al. average epochs 500 to 800 of 800: 301 epochs, epoch 500 included (the old window began at 501)."
    from posebench.recipe import RunResult
    runs = [RunResult('m', 'hardy', {}, history=[{'e': float(e + s)} for e in range(1, 801)]) for s in (0, 2)]
    summ = U.stability_summary(runs, 'e')
    assert summ['window_epochs'] == [500, 800]
    assert summ['window_mean']['mean'] == pytest.approx(sum(range(500, 801)) / 301 + 1)
    assert summ['last']['mean'] == 801 and summ['best']['mean'] == 2


def test_five_seeds_by_default():
    "Hardy et al.'s stability study has 5 runs: the library default and the experiment notebook's default."
    import ast, nbformat
    from pathlib import Path
    assert U.STABILITY_SEEDS == (0, 1, 2, 3, 4)
    nb = nbformat.read(Path(__file__).parents[1] / 'nbs' / 'experiments' / 'train_representations.ipynb', as_version=4)
    params = next(c for c in nb.cells if 'parameters' in c.metadata.get('tags', []))
    seeds = next(ast.literal_eval(n.value) for n in ast.parse(params.source).body
                 if isinstance(n, ast.Assign) and n.targets[0].id == 'seeds')
    assert seeds == list(U.STABILITY_SEEDS)


def test_hardy_orthographic_inputs_are_normalised_camera_space_xy(tiny_data):
    "inputs='orthographic': the camera-space x, y of the 3D pose (mm), root-centred and divided by their largest |value|."
    _, tests = tiny_data
    ps = tests['default_S9_S11'][:32]
    xy = (ps.pose3d[..., :2] - ps.pose3d[:, :1, :2]).float()
    expect = xy / xy.abs().amax((1, 2))[:, None, None]
    got = U.HardyRecipe(U.HardyOptions(inputs='orthographic')).inputs(ps)
    assert torch.allclose(got, expect, atol=1e-6) and torch.allclose(got.abs().amax((1, 2)), torch.ones(32))
    persp = U.HardyRecipe(U.HardyOptions()).inputs(ps)                     # the projected 2D differs
    assert not torch.allclose(persp, expect, atol=1e-3)


def test_old_saved_options_are_upgraded_with_a_warning():
    "Runs saved when lr / weight_decay were SVMAC/Hardy options still load: the keys are dropped, and the user is told."
    from posebench.recipe import options_from_dict
    from posebench.unsupervised import SVMACRecipe, SVMACOptions, HardyRecipe, HardyOptions
    for cls, Opt in ((SVMACRecipe, SVMACOptions), (HardyRecipe, HardyOptions)):
        old = {**dataclasses.asdict(Opt()), 'lr': 5.5e-5, 'weight_decay': 1e-5}
        with pytest.raises(ValueError, match=r"unknown key\(s\) \['lr', 'weight_decay'\]"): options_from_dict(Opt, dict(old))
        with pytest.warns(UserWarning, match=r"run/checkpoint.pt: options \{'lr': 5.5e-05, 'weight_decay': 1e-05\} are TrainConfig fields"):
            new = cls.upgrade_options(dict(old), 'run/checkpoint.pt')
        assert options_from_dict(Opt, new) == Opt()
    assert SVMACRecipe.upgrade_options({'width': 8}, 'x') == {'width': 8}          # current options pass unchanged
