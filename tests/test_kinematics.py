"posebench.kinematics: IK/FK round trips on real poses, bone lengths, angle ranges, the generator, bad input."
import math
import numpy as np
import pytest
import torch
from posebench.skeleton import H36M17, H36M16
from posebench.geometry import joints_to_bones, axis_rotation, project, normalize_screen
from posebench.kinematics import (inverse_kinematics, forward_kinematics_angles, bone_frames, canonical_heading, AngleRanges,
                                  bone_templates, interpolate_keyframes, PoseGenerator, select_seeds, plausibility)


@pytest.fixture(scope='module')
def default_train():
    from posebench.data import load_benchmark
    return load_benchmark('default')[0]


@pytest.fixture(scope='module')
def generator(default_train):
    seeds = default_train[select_seeds(default_train, 20, seed=0)]
    return PoseGenerator.from_poseset(seeds, frames_per_key=5, sequence_length=21), seeds


def _round_trip(x):
    lengths, angles = inverse_kinematics(x)
    return (forward_kinematics_angles(angles, lengths, root=x[:, 0]) - x).norm(dim=-1).max().item()


def test_round_trip_hdm05(hdm05_npz):
    with np.load(hdm05_npz) as d: x = torch.tensor(d['positions'][::5])     # world frame, z up, every action
    assert _round_trip(x) < 1e-3
    assert _round_trip(x @ torch.tensor([[1., 0, 0], [0, 0, -1], [0, 1, 0]]).T) < 1e-3  # a camera-like frame


def test_round_trip_default_and_16_joints(default_train):
    x = default_train.pose3d[::40]
    assert _round_trip(x) < 1e-3
    x16 = default_train.with_skeleton(H36M16).pose3d[::40]
    lengths, angles = inverse_kinematics(x16, H36M16)
    assert angles.shape == (len(x16), 15, 3)
    assert (forward_kinematics_angles(angles, lengths, x16[:, 0], H36M16) - x16).norm(dim=-1).max() < 1e-3


def test_ik_meaning_and_invariance(default_train):
    x = default_train.pose3d[::200]
    lengths, angles = inverse_kinematics(x)
    F = bone_frames()
    assert torch.allclose(lengths, joints_to_bones(x).norm(dim=-1), atol=1e-3)
    assert (angles[:, F.leaf, 0] == 0).all()                                    # leaves carry no twist
    el = [H36M17.index(n) - 1 for n in ('RWrist', 'LWrist')]                     # elbows: hinge, gamma = flexion
    th = joints_to_bones(x)
    flex = torch.acos((th[:, el] * th[:, [e - 1 for e in el]]).sum(-1) / (th[:, el].norm(dim=-1) * th[:, [e - 1 for e in el]].norm(dim=-1)))
    assert torch.allclose(angles[:, el, 2], flex, atol=2e-3)
    # turning / moving the whole body only changes the orientation bone (0)
    y = (x - x[:, :1]) @ axis_rotation(torch.tensor(1.3), 'y').T + torch.tensor([100., -50., 3000.])
    _, a2 = inverse_kinematics(y)
    d = torch.remainder(a2[:, 1:] - angles[:, 1:] + math.pi, 2 * math.pi) - math.pi
    assert d.abs().max() < 1e-4
    assert not torch.allclose(a2[:, 0], angles[:, 0], atol=1e-2)


def test_fk_preserves_bone_lengths_and_gradients():
    g = torch.Generator().manual_seed(0)
    th = ((torch.rand(256, 16, 3, generator=g) * 2 - 1) * math.pi).requires_grad_(True)
    l = (200 + 300 * torch.rand(256, 16, generator=g)).requires_grad_(True)
    y = forward_kinematics_angles(th, l, root=torch.tensor([0., 0., 4000.]))
    assert torch.allclose(joints_to_bones(y).norm(dim=-1), l.detach(), atol=1e-3, rtol=0)
    y.pow(2).mean().backward()
    assert th.grad.abs().sum() > 0 and l.grad.abs().sum() > 0 and torch.isfinite(th.grad).all()
    x = y.detach()[:4].requires_grad_(True)                                     # IK is differentiable too
    inverse_kinematics(x)[1].sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_angle_ranges_contain_seeds_save_load(tmp_path, generator):
    gen, seeds = generator
    r = gen.ranges
    assert r.actions == tuple(sorted(set(seeds.action))) and r.n_seeds == (20,) * 8
    xc, _ = canonical_heading(seeds.pose3d)
    _, a = inverse_kinematics(xc)
    assert r.contains(a, r.action_index(seeds.action.tolist())).all()
    for suffix in ('.json', '.npz'):
        r2 = AngleRanges.load(r.save(tmp_path / f"r{suffix}"))
        assert r2.actions == r.actions and torch.equal(r2.lo, r.lo) and torch.equal(r2.hi, r.hi) and r2.up == r.up
    t = r.table()
    assert len(t) == 8 * 16 * 3 and (t['width'] >= 0).all()
    wide = AngleRanges.from_poses(seeds.pose3d, seeds.action, margin=0.1)
    assert (wide.hi - wide.lo >= r.hi - r.lo - 1e-5).all()


def test_generated_angles_inside_ranges_no_hyperextension(generator):
    gen, seeds = generator
    d = gen.sample(40, torch.Generator().manual_seed(2))
    a = d['action'][:, None].expand(40, gen.sequence_length)
    assert gen.ranges.contains(d['angles'], a).all()
    for name in ('RFoot', 'LFoot', 'RWrist', 'LWrist'):                         # knee and elbow flexion
        k = H36M17.index(name) - 1
        lo, hi = gen.ranges.lo[a, k, 2], gen.ranges.hi[a, k, 2]
        g = d['angles'][..., k, 2]
        assert ((g >= lo - 1e-6) & (g <= hi + 1e-6)).all()
    ps = gen.generate(2000, seed=1)
    rep = plausibility(ps.pose3d, ps.action, gen.ranges)
    assert rep['knee_outside_range'] == 0 and rep['elbow_outside_range'] == 0 and rep['n'] == 2000


def test_interpolation_is_continuous():
    g = torch.Generator().manual_seed(0)
    keys = torch.randn(6, 4, 16, 3, generator=g)
    n = 7
    th = interpolate_keyframes(keys, n)
    assert th.shape == (6, 3 * n + 1, 16, 3)
    assert torch.allclose(th[:, ::n], keys)                                    # key frames are hit exactly
    step = (th[:, 1:] - th[:, :-1]).abs()
    bound = (keys[:, 1:] - keys[:, :-1]).abs() / n                             # eq. 7
    assert (step <= bound.repeat_interleave(n, 1) + 1e-6).all()


def test_generator_poseset_projection_and_determinism(generator):
    gen, seeds = generator
    ps = gen.generate(100, seed=5)
    assert len(ps) == 100 and ps.pose3d.shape == (100, 17, 3) and ps.fps == seeds.fps
    assert torch.allclose(ps.pose2d, project(ps.pose3d, ps.camera[:, :4]), atol=1e-3)
    assert (ps.pose3d[..., 2] > 1000).all()
    seq = ps.sequence
    assert (np.diff(seq) >= 0).all() and len(np.unique(seq)) == 5              # sequences of 21 frames, last one cut
    bl = joints_to_bones(ps.pose3d).norm(dim=-1)
    assert ((bl[:, None] - gen.bone_templates[None]).abs().amax(-1).min(-1).values < 0.05).all()
    assert torch.equal(gen.generate(100, seed=5).pose3d, ps.pose3d)
    assert not torch.equal(gen.generate(100, seed=6).pose3d, ps.pose3d)
    b = next(gen.stream(64, seed=0))
    assert b['x'].shape == (64, 17, 2) and b['y'].shape == (64, 17, 3) and (b['y'][:, 0] == 0).all()
    assert torch.allclose(b['x'], normalize_screen(b['pose2d'], b['camera'][:, 4], b['camera'][:, 5]))


def test_bone_templates_are_subject_medians(default_train):
    t, names = bone_templates(default_train.pose3d[::50], default_train.subject[::50])
    assert names == sorted(set(default_train.subject)) and t.shape == (len(names), 16)
    m = default_train.subject[::50] == names[0]
    assert torch.allclose(t[0], joints_to_bones(default_train.pose3d[::50][torch.as_tensor(m)]).norm(dim=-1).median(0).values)


def test_bad_input(generator):
    gen, seeds = generator
    with pytest.raises(ValueError, match=r'seed poses must be \(N, 17, 3\)'):
        AngleRanges.from_poses(seeds.pose3d[:, :15], seeds.action)
    with pytest.raises(ValueError, match="'swim'.*zero seed poses"):
        AngleRanges.from_poses(seeds.pose3d, seeds.action, action_names=['walk', 'swim'])
    with pytest.raises(ValueError, match='no seed poses'):
        AngleRanges.from_poses(seeds.pose3d[:0], seeds.action[:0])
    bad = seeds.pose3d.clone(); bad[3, 4, 1] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        AngleRanges.from_poses(bad, seeds.action)
    with pytest.raises(ValueError, match='NaN'):
        forward_kinematics_angles(torch.full((2, 16, 3), float('nan')), torch.ones(2, 16))
    with pytest.raises(ValueError, match=r'angles must be \(\.\.\., 16, 3\)'):
        forward_kinematics_angles(torch.zeros(2, 15, 3), torch.ones(2, 16))
    with pytest.raises(ValueError, match='expected shape'):
        inverse_kinematics(torch.zeros(3, 16, 3))
    with pytest.raises(ValueError, match='unknown action'):
        gen.ranges.action_index(['swim'])
    with pytest.raises(ValueError, match='bone_templates'):
        PoseGenerator(gen.ranges, torch.ones(2, 15))
    with pytest.raises(ValueError, match='hi < lo'):
        AngleRanges(gen.ranges.actions, gen.ranges.hi, gen.ranges.lo - 1, skeleton=H36M17)
    with pytest.raises(ValueError, match='no file'):
        AngleRanges.load('/nonexistent/ranges.json')


def test_planned_fk_matches_joint_by_joint_and_fuses_rotation():
    from posebench.geometry import euler_to_matrix, forward_kinematics
    g = torch.Generator().manual_seed(3)
    th = (torch.rand(300, 16, 3, generator=g) * 2 - 1) * math.pi
    ln = 150 + 350 * torch.rand(300, 16, generator=g)
    F = bone_frames()
    local = F.C.float() @ euler_to_matrix(th)
    eye = torch.eye(3).expand_as(local[:, :1])
    local = torch.cat([eye, local[:, :F.orient], eye, local[:, F.orient + 1:]], 1)
    offs = torch.cat([torch.zeros(300, 1), ln], 1)[..., None] * torch.tensor([1., 0., 0.])
    ref = forward_kinematics(local, offs, list(H36M17.parents), root_rot=F.C[F.orient].float() @ euler_to_matrix(th[:, F.orient]))[0]
    assert (forward_kinematics_angles(th, ln) - ref).abs().max() < 2e-3
    y64 = forward_kinematics_angles(th.double(), ln.double())
    assert y64.dtype == torch.float64 and (y64 - ref.double()).abs().max() < 2e-3
    R = axis_rotation(th[:, 1, 0], 'y') @ axis_rotation(th[:, 1, 1] / 4, 'x')
    r0 = torch.tensor([10., -20., 4000.])
    fused = forward_kinematics_angles(th, ln, root=r0, rotation=R)
    assert (fused - (ref @ R.transpose(-1, -2) + r0)).abs().max() < 2e-3
    with pytest.raises(ValueError, match='rotation must be'):
        forward_kinematics_angles(th, ln, rotation=torch.eye(4))


def test_sample_chunking_does_not_change_output(generator, monkeypatch):
    import posebench.kinematics as K
    gen, _ = generator
    a = gen.sample(30, torch.Generator().manual_seed(4), chunk=64)
    b = gen.sample(30, torch.Generator().manual_seed(4), chunk=100_000)
    c = gen.sample(30, torch.Generator().manual_seed(4), angles=False)
    for k in ('angles', 'pose3d', 'pose2d', 'root', 'rotation'):
        assert torch.equal(a[k], b[k]), k
    assert 'angles' not in c and torch.equal(c['pose2d'], a['pose2d'])
    monkeypatch.setitem(K._COMPILED, 'fk', K._fk_soa)          # the compile=True plumbing, without the slow compilation
    d = gen.sample(30, torch.Generator().manual_seed(4), chunk=64, compile=True)
    assert torch.equal(d['pose3d'], a['pose3d'])


def test_generated_source_deterministic_resumable(generator):
    gen, _ = generator
    src = gen.source(batch_size=100, steps_per_epoch=7, seed=3, pool_batches=3)
    b = src.batch(2, 5)
    assert b['x'].shape == (100, 17, 2) and b['y'].shape == (100, 17, 3) and (b['y'][:, 0] == 0).all()
    fresh = gen.source(100, 7, seed=3, pool_batches=3, prefetch=False)
    assert torch.equal(fresh.batch(2, 5)['y'], b['y'])
    ep = list(src.epoch(2))
    assert len(ep) == 7 and all(torch.equal(e['y'], fresh.batch(2, i)['y']) for i, e in enumerate(ep))
    assert torch.equal(list(src.epoch(2, start=5))[0]['x'], b['x'])
    assert all(torch.equal(e['x'], fresh.batch(3, i)['x']) for i, e in enumerate(src.epoch(3)))   # prefetched across epochs
    src.close()
    assert not torch.equal(src.batch(3, 5)['x'], b['x']) and not torch.equal(gen.source(100, 7, seed=4, pool_batches=3).batch(2, 5)['x'], b['x'])
    ex = gen.source(100, 7, seed=3, pool_batches=3, extras=True).batch(2, 5)
    assert torch.allclose(ex['x'], normalize_screen(ex['pose2d'], ex['camera'][:, 4], ex['camera'][:, 5]))
    assert torch.allclose(ex['y'], (ex['pose3d'] - ex['pose3d'][:, :1]) / 1000)
    with pytest.raises(ValueError, match='step must be'):
        src.batch(0, 7)
    with pytest.raises(ValueError, match='must be >= 1'):
        gen.source(0, 7)
