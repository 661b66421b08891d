"Tests of posebench.augment: each PoseAug operation keeps what it should, gradients, β schedule, NaN reporting."
import math
import pytest
import torch
from posebench.skeleton import H36M17, H36M16
from posebench.geometry import bone_lengths, joints_to_bones, random_rotation, procrustes
from posebench.metrics import p_mpjpe
from posebench.augment import (bone_angle_op, bone_length_op, rigid_transform_op, bone_length_groups, bones_by_child,
                               Augmentor, feedback_loss, BetaSchedule, rectified_l2, range_loss, pose_error,
                               project_pose, inside_image, check_finite, AugmentationNaNError)



def poses(n=16, skel=H36M17, seed=0):
    "Random plausible-size poses: random bone directions with 100–400 mm bones, root 4–6 m in front of the camera."
    g = torch.Generator().manual_seed(seed)
    d = torch.randn(n, skel.num_bones, 3, generator=g)
    d = d / d.norm(dim=-1, keepdim=True) * (100 + 300 * torch.rand(n, skel.num_bones, 1, generator=g))
    from posebench.geometry import bones_to_joints
    root = torch.randn(n, 3, generator=g) * 200 + torch.tensor([0., 0., 5000.])
    return bones_to_joints(d, skel, root=root)


def unit(b): return b / b.norm(dim=-1, keepdim=True)


@pytest.mark.parametrize('skel', [H36M17, H36M16])
def test_ba_keeps_bone_lengths_and_fixed_bones(skel):
    x = poses(skel=skel)
    g = 0.5 * torch.randn(16, skel.num_bones, 3, generator=torch.Generator().manual_seed(1))
    fixed = bones_by_child(skel, ['Spine', 'Thorax'])
    y, diff = bone_angle_op(x, g, skel, fixed)
    assert torch.allclose(bone_lengths(y, skel), bone_lengths(x, skel), rtol=1e-4, atol=1e-3)
    assert torch.allclose(y[:, 0], x[:, 0])
    bx, by = unit(joints_to_bones(x, skel)), unit(joints_to_bones(y, skel))
    assert torch.allclose(bx[:, fixed], by[:, fixed], atol=1e-5)           # masked bones keep direction
    free = [b for b in range(skel.num_bones) if b not in fixed]
    assert (1 - (bx[:, free] * by[:, free]).sum(-1)).mean() > 0.05          # the others did move
    assert torch.allclose(diff, 1 - (bx * by).sum(-1), atol=1e-5)


@pytest.mark.parametrize('skel', [H36M17, H36M16])
def test_bl_keeps_directions_and_symmetry(skel):
    x = poses(skel=skel)
    G = int(bone_length_groups(skel).max()) + 1
    g = 0.2 * torch.tanh(torch.randn(16, G, generator=torch.Generator().manual_seed(2)))
    y = bone_length_op(x, g, skel)
    assert torch.allclose(unit(joints_to_bones(y, skel)), unit(joints_to_bones(x, skel)), atol=1e-5)
    ratio = bone_lengths(y, skel) / bone_lengths(x, skel)
    assert len(skel.symmetric_bones) == 6
    for l, r in skel.symmetric_bones:
        assert torch.allclose(ratio[:, l], ratio[:, r], atol=1e-5)
    assert (ratio - 1).abs().max() > 0.05 and (ratio - 1).abs().max() <= 0.2 + 1e-5
    # a per-bone gamma of the wrong size is refused
    with pytest.raises(ValueError, match='gamma_bl'):
        bone_length_op(x, torch.zeros(16, G + 1), skel)


def test_rt_keeps_shape_up_to_rigid_motion():
    x = poses()
    gen = torch.Generator().manual_seed(3)
    R = random_rotation(16, generator=gen)
    t = torch.randn(16, 3, generator=gen) * 500 + torch.tensor([0., 0., 4000.])
    y = rigid_transform_op(x, R, t)
    assert torch.allclose(bone_lengths(y), bone_lengths(x), rtol=1e-4, atol=1e-2)
    assert torch.allclose(y[:, 0], t, atol=1e-3)
    assert p_mpjpe(y, x).mean() < 0.05                                       # mm
    assert (y - x).norm(dim=-1).mean() > 100                                 # but it did move


def test_augmentor_ops_alone_and_together():
    x = poses(skel=H36M16)
    gen = torch.Generator().manual_seed(4)
    full = Augmentor(H36M16)
    o = full(x, gen)
    assert torch.allclose(bone_lengths(o['pose_ba'], H36M16), bone_lengths(x, H36M16), rtol=1e-4, atol=1e-2)
    ratio = bone_lengths(o['pose_bl'], H36M16) / bone_lengths(o['pose_ba'], H36M16)
    for l, r in H36M16.symmetric_bones: assert torch.allclose(ratio[:, l], ratio[:, r], atol=1e-4)
    thorax = bones_by_child(H36M16, ['Thorax'])[0]
    assert torch.allclose(ratio[:, thorax], torch.ones(16), atol=1e-4)        # masked BL ratio
    assert p_mpjpe(o['pose_rt'], o['pose_bl']).mean() < 0.1
    assert o['gamma_bl'].shape == (16, 9) and o['ba_diff'].shape == (16, 15)
    only_rt = Augmentor(H36M16, ba=False, bl=False)(x, gen)
    assert torch.allclose(bone_lengths(only_rt['pose'], H36M16), bone_lengths(x, H36M16), rtol=1e-4, atol=1e-2)
    only_ba = Augmentor(H36M16, bl=False, rt=False)(x, gen)
    assert torch.allclose(only_ba['pose'][:, 0], x[:, 0])
    with pytest.raises(ValueError, match=r'\(B, 16, 3\)'):
        full(torch.zeros(4, 17, 3))


def test_gradients_reach_augmentor_from_feedback_loss():
    torch.manual_seed(0)
    x = poses(skel=H36M16)
    cam = torch.tensor([1150., 1150., 500., 500., 1000., 1000.]).expand(16, 6)
    aug = Augmentor(H36M16).init_translation(x[:, 0].mean(0))
    est = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32, 48))
    def predict(x2d): return est(x2d).view(-1, 16, 3)
    o = aug(x, torch.Generator().manual_seed(0))
    _, x2d = project_pose(x, cam)
    _, x2d_aug = project_pose(o['pose'], cam)
    tgt = (x - x[:, :1]) / 1000; tgt_aug = (o['pose'] - o['pose'][:, :1]) / 1000
    loss = feedback_loss(pose_error(predict(x2d_aug), tgt_aug), pose_error(predict(x2d), tgt), beta=3.0)
    loss.backward()
    for name in ['ba_net', 'bl_net', 'r_net', 't_net']:
        w = getattr(aug, name).head.weight.grad
        assert w is not None and torch.isfinite(w).all() and w.abs().sum() > 0, name


def test_beta_below_one_refused_and_schedule_rises():
    with pytest.raises(ValueError, match='>= 1'): BetaSchedule(0.5, 2.0)
    with pytest.raises(ValueError, match='>= 1'): BetaSchedule(1.5, 0.9)
    with pytest.raises(ValueError, match='rise'): BetaSchedule(4.0, 2.0)
    with pytest.raises(ValueError, match='beta'): feedback_loss(torch.ones(2), torch.ones(2), 0.9)
    s = BetaSchedule(3.0, 5.0, epochs=4)
    assert [s(e) for e in range(5)] == [3.0, 3.5, 4.0, 4.5, 5.0]
    # zero when the augmented error is exactly beta times the original
    assert feedback_loss(torch.tensor([0.3]), torch.tensor([0.1]), 3.0).abs() < 1e-6


def test_regularisers_hand_values():
    g = torch.tensor([[0.05, -0.2], [0.3, 0.0]])
    assert torch.isclose(rectified_l2(g, 0.1), torch.tensor(0.13 / 4))
    assert rectified_l2(torch.full((3, 4), 0.05), 0.1) == 0
    assert torch.isclose(range_loss(torch.tensor([0.2, 0.5]), 0.205, 0.165), torch.tensor(0.295 ** 2 / 2))


def test_nan_reported_with_batch_index():
    x = poses(skel=H36M16)
    x[5, 3] = x[5, 2]                                      # zero-length bone (RKnee -> RFoot)
    y, _ = bone_angle_op(x, torch.zeros(16, 15, 3), H36M16)
    with pytest.raises(AugmentationNaNError, match=r'batch 12.*samples \[5\]'):
        check_finite(y, batch_index=12)
    assert isinstance(AugmentationNaNError('x'), ValueError)


def test_inside_image_drops_out_of_view():
    x = poses()
    cam = torch.tensor([1150., 1150., 500., 500., 1000., 1000.]).expand(16, 6)
    uv, xn = project_pose(x, cam)
    behind = x.clone(); behind[..., 2] *= -1
    assert inside_image(x, uv, cam).all()
    assert not inside_image(behind, project_pose(behind, cam)[0], cam).any()
    assert xn[..., 0].abs().max() <= 1


# ---------------------------------------------------------------- critics, KCS and the recipe
from posebench.models import KCSCritic, Critic2D, kcs
from posebench.losses import lsgan_g, lsgan_d


def test_gradients_reach_augmentor_from_critics():
    torch.manual_seed(0)
    x = poses(skel=H36M16)
    cam = torch.tensor([1150., 1150., 500., 500., 1000., 1000.]).expand(16, 6)
    aug = Augmentor(H36M16).init_translation(x[:, 0].mean(0))
    o = aug(x, torch.Generator().manual_seed(0))
    d3 = KCSCritic(H36M16, parts='part')
    lsgan_g(d3((o['pose_bl'] - o['pose_bl'][:, :1]) / 1000)).backward(retain_graph=True)
    g_ba = aug.ba_net.head.weight.grad
    assert g_ba is not None and g_ba.abs().sum() > 0                       # KCS critic -> BA branch
    assert aug.r_net.head.weight.grad is None                              # KCS is rotation invariant: no RT path
    aug.zero_grad()
    d2 = Critic2D(16, width=100, blocks=1)
    lsgan_g(d2(project_pose(o['pose'], cam)[1])).backward()
    for name in ['ba_net', 'bl_net', 'r_net', 't_net']:                    # 2D critic -> every branch
        w = getattr(aug, name).head.weight.grad
        assert w is not None and w.abs().sum() > 0, name


@pytest.mark.parametrize('part', ['left_arm', 'right_leg', 'torso'])
def test_part_kcs_invariant_to_bones_outside_part(part):
    skel = H36M16
    x = poses(skel=skel)
    inside = skel.part('kcs', part)
    g = 0.6 * torch.randn(16, skel.num_bones, 3, generator=torch.Generator().manual_seed(5))
    g[:, inside] = 0                                                         # BA moves only bones outside the part
    y, diff = bone_angle_op(x, g, skel)
    assert diff[:, [b for b in range(skel.num_bones) if b not in inside]].mean() > 0.05
    assert torch.allclose(kcs(y, skel, part=part), kcs(x, skel, part=part), atol=1e-5)
    assert not torch.allclose(kcs(y, skel), kcs(x, skel), atol=1e-3)        # the whole-body KCS does change
    critic = KCSCritic(skel, parts='part', reduce='none').eval()
    j = critic.part_names.index(part)
    sx, sy = critic(x), critic(y)
    assert torch.allclose(sx[:, j], sy[:, j], atol=1e-5)                     # that part's critic path: same score
    others = [k for k in range(len(critic.part_names)) if k != j]
    assert not torch.allclose(sx[:, others], sy[:, others], atol=1e-4)


def test_lsgan_per_part_targets_on_B_by_5():
    # each KCS part score gets its own target: a critic that fools with one part and not the others is penalised
    s = torch.tensor([[2., 0., 1., 1., 1.], [1., 1., 1., 1., 1.]], requires_grad=True)
    assert torch.isclose(lsgan_g(s), torch.tensor(0.5 * (1 + 1) / 10))
    assert lsgan_g(s.mean(1)) == 0                                         # averaging first would hide it
    (g,) = torch.autograd.grad(lsgan_g(s), s)
    assert torch.allclose(g, (s.detach() - 1) / 10)                       # d/ds of ½·mean((s−1)²) per column
    real, fake = torch.ones(3, 5), torch.zeros(3, 5)
    assert lsgan_d(real, fake) == 0 and torch.isclose(lsgan_d(fake, real), torch.tensor(1.))
    fake[0, 2] = 1.                                                        # one part of one sample fooled: 1/15 of ½
    assert torch.isclose(lsgan_d(real, fake), torch.tensor(0.5 / 15))
    # label flipping flips a sample in every part column (flip ≈ 1: all real targets 0, all fake targets 1)
    assert torch.isclose(lsgan_d(real, fake, flip=0.999999, generator=torch.Generator().manual_seed(0)),
                         torch.tensor(0.5 + 0.5 * 14 / 15))
    with pytest.raises(ValueError, match=r'\(B, P\)'): lsgan_g(torch.zeros(3, 5, 1))
    critic = KCSCritic(H36M16, parts='part', reduce='none')
    assert critic(poses(4, H36M16)).shape == (4, 5) and len(critic.part_names) == 5


@pytest.fixture(scope='module')
def small_bench():
    from posebench.data import load_benchmark
    train, tests = load_benchmark('default')
    idx = torch.arange(0, len(train), len(train) // 192)[:192].numpy()
    return train[idx], {k: v[:128] for k, v in tests.items()}


TINY = dict(model_kwargs={'width': 64, 'blocks': 1}, width=32, blocks=1, critic2d_width=32, pool_size=256)


def test_train_poseaug_tiny_and_ablations(small_bench, tmp_path):
    from posebench.models import get_model
    from posebench.train import TrainConfig
    from posebench.recipe import RunResult
    from posebench.augment import train_poseaug, PoseAugOptions
    train, tests = small_bench
    tcfg = TrainConfig(epochs=2, batch_size=64, progress=False, device='cpu', checkpoint=False)
    net = get_model('simple_baseline', train.skeleton, width=64, blocks=1)
    res = train_poseaug(train, tests, PoseAugOptions(warmup_epochs=1, **TINY), tcfg, pretrained=net, out_dir=tmp_path,
                        eval_samples=64)
    assert RunResult.load(tmp_path / 'metrics.json').method == 'simple_baseline + PoseAug'
    h = res.history
    assert len(h) == 2 and 'feedback' not in h[0] and 'feedback' in h[1] and h[1]['beta'] >= 3
    assert {'d3d', 'd2d', 'g_adv3d', 'g_adv2d', 'loss', 'kept', 'lr_model', 'lr_aug', 'lr_d3d', 'lr_d2d'} <= set(h[1])
    assert math.isfinite(res.tests[next(iter(tests))]['mpjpe'])
    mods = res.recipe_object.modules
    assert res.networks['aug']['n_params'] == sum(p.numel() for p in mods['aug'].parameters())
    assert mods['d3d'](torch.zeros(2, 17, 3) + torch.randn(2, 17, 3)).shape == (2, 5)   # per-part scores
    assert not all(torch.equal(p, q) for p, q in zip(net.parameters(), res.model.parameters()))  # started from net, moved
    # ablations: only RT, no 3D critic, whole-body KCS
    r2 = train_poseaug(train, tests, PoseAugOptions(ba=False, bl=False, d3d=False, feedback=False, **TINY),
                       tcfg.replace(epochs=1), pretrained=net, eval_samples=64)
    assert r2.recipe_object.modules['aug'].ba_net is None and 'd3d' not in r2.networks
    assert 'd3d' not in r2.history[0] and 'ba_diff' not in r2.history[0]
    r3 = train_poseaug(train, tests, PoseAugOptions(kcs='whole', d2d=False, **TINY), tcfg.replace(epochs=1),
                       pretrained=net, eval_samples=64)
    assert 'd3d' in r3.history[0] and 'd2d' not in r3.history[0]
    with pytest.raises(ValueError, match='>= 1'): PoseAugOptions(beta_start=0.5)
    with pytest.raises(ValueError, match='kcs'): PoseAugOptions(kcs='local')


def test_linear_schedule_same_lr_factors_for_baseline_and_poseaug(small_bench):
    from posebench.train import TrainConfig
    from posebench.supervised import train_supervised
    from posebench.augment import train_poseaug, PoseAugOptions
    train, _ = small_bench
    cfg = TrainConfig(epochs=3, batch_size=96, lr=1e-3, schedule='linear', progress=False, device='cpu', checkpoint=False)
    base = train_supervised(train, None, cfg=cfg, model_kwargs=TINY['model_kwargs'])
    aug = train_poseaug(train, None, PoseAugOptions(d3d=False, d2d=False, feedback=False, lr_aug=5e-4, **TINY), cfg)
    expect = [1 - e / 4 for e in range(3)]                                 # PoseAug's 1 − e/(epochs+1)
    assert [h['lr'] / 1e-3 for h in base.history] == pytest.approx(expect, rel=1e-12)
    assert [h['lr_model'] / 1e-3 for h in aug.history] == pytest.approx(expect, rel=1e-12)
    assert [h['lr_aug'] / 5e-4 for h in aug.history] == pytest.approx(expect, rel=1e-12)


def test_train_poseaug_reports_nan_batch(small_bench):
    from posebench.models import get_model
    from posebench.train import TrainConfig
    from posebench.augment import train_poseaug, PoseAugOptions
    train, tests = small_bench
    bad = train[torch.arange(64).numpy()]
    p = bad.pose3d.clone(); p[5, 13] = p[5, 12]                          # LWrist on LElbow: zero-length bone
    bad.pose3d = p
    assert torch.equal(bad.pose3d[5, 13], bad.pose3d[5, 12])
    with pytest.raises(AugmentationNaNError, match=r'batch 0 of epoch 1.*samples \[5\]'):
        train_poseaug(bad, tests, PoseAugOptions(**TINY),
                      TrainConfig(epochs=1, batch_size=64, shuffle=False, progress=False, device='cpu'),
                      pretrained=get_model('simple_baseline', train.skeleton, width=64, blocks=1))


def test_poseaug_optimizers_follow_train_config():
    "Every network's optimiser is TrainConfig's kind with its weight decay; the estimator takes cfg.lr (the old code: always Adam)."
    from posebench.models import get_model
    from posebench.train import TrainConfig
    from posebench.augment import PoseAugRecipe, PoseAugOptions
    recipe = PoseAugRecipe(PoseAugOptions(lr_aug=3e-4, lr_critic=2e-4, **TINY))
    modules = {k: get_model(name, H36M17, **kw) for k, (name, kw) in recipe.networks(None).items()}
    opts, scheds = recipe.optimizers(TrainConfig(lr=0.1, weight_decay=0.5, optimizer='adamw'), modules)
    assert set(opts) == {'model', 'aug', 'd3d', 'd2d'} == set(scheds)
    assert all(type(o) is torch.optim.AdamW and o.param_groups[0]['weight_decay'] == 0.5 for o in opts.values())
    assert {k: o.param_groups[0]['lr'] for k, o in opts.items()} == {'model': 0.1, 'aug': 3e-4, 'd3d': 2e-4, 'd2d': 2e-4}


def test_train_poseaug_16_joints_nose_dropped(small_bench):
    "PoseAug's own 16-joint setting (H36M16, nose dropped): networks, critics and evaluation at 16 joints."
    from posebench.train import TrainConfig
    from posebench.augment import train_poseaug, PoseAugOptions
    train, tests = small_bench
    train16, tests16 = train.with_skeleton(H36M16), {k: v.with_skeleton(H36M16) for k, v in tests.items()}
    assert train16.pose3d.shape[1] == 16 and 'Nose' not in train16.skeleton.joint_names
    r = train_poseaug(train16, tests16, PoseAugOptions(warmup_epochs=0, **TINY),
                      TrainConfig(epochs=1, batch_size=64, progress=False, device='cpu', checkpoint=False), eval_samples=64)
    mods = r.recipe_object.modules
    assert mods['aug'].skeleton.num_joints == 16 and mods['d3d'](poses(3, H36M16)).shape == (3, 5)
    assert r.recipe_object.predict_mm(tests16[next(iter(tests16))]).shape[1:] == (16, 3)
    assert 'feedback' in r.history[0] and math.isfinite(r.tests[next(iter(tests16))]['mpjpe'])
