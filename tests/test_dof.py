"Tests of posebench.dof: torso plane (ODR), pose attributes, the progressive network's wiring, the per-group table."
import math
import numpy as np
import pytest
import torch
from posebench.skeleton import H36M17, H36M16
from posebench.geometry import random_rotation
from posebench.metrics import evaluate_poses, example_pose
from posebench.dof import (torso_plane, pose_attributes, attributes_one_hot, attribute_joints, TORSO_PLANE_JOINTS,
                           DOFNet, DOFLifter, AttributeClassifier, dof_loss, attribute_loss)


PLANE_IDS = H36M17.index(list(TORSO_PLANE_JOINTS))


def test_attribute_joints_are_the_limb_joints():
    names = {H36M17.joint_names[j] for j in attribute_joints(H36M17)}
    assert names == {'Head', 'LElbow', 'RElbow', 'LWrist', 'RWrist', 'LKnee', 'RKnee', 'LFoot', 'RFoot'}


def test_odr_plane_of_points_on_a_known_plane():
    g = torch.Generator().manual_seed(0)
    n_true = torch.nn.functional.normalize(torch.randn(8, 3, generator=g), dim=-1)
    c_true = torch.randn(8, 3, generator=g) * 1000
    # an orthonormal in-plane basis per sample
    a = torch.nn.functional.normalize(torch.linalg.cross(n_true, torch.randn(8, 3, generator=g)), dim=-1)
    b = torch.linalg.cross(n_true, a)
    x = example_pose().repeat(8, 1, 1) + torch.randn(8, 17, 3, generator=g) * 300
    coef = torch.randn(8, 5, 2, generator=g) * 300
    pts = c_true[:, None] + coef[..., :1] * a[:, None] + coef[..., 1:] * b[:, None]
    x[:, PLANE_IDS] = pts
    c, n = torso_plane(x)
    assert torch.allclose(c, pts.mean(1), atol=1e-2)
    assert torch.allclose((n * n_true).sum(-1).abs(), torch.ones(8), atol=1e-5)   # same plane (normal up to sign)
    # the ODR normal minimises the sum of squared distances: no random normal does better on noisy points
    noisy = example_pose() + torch.randn(17, 3, generator=g) * 30
    c, n = torso_plane(noisy)
    P = noisy[PLANE_IDS] - noisy[PLANE_IDS].mean(0)
    best = ((P @ n) ** 2).sum()
    others = torch.nn.functional.normalize(torch.randn(500, 3, generator=g), dim=-1)
    assert ((P @ others.T) ** 2).sum(0).min() >= best - 1e-3


def test_normal_points_to_the_front_and_is_rotation_equivariant():
    x = example_pose()  # faces the camera: front = -z
    c, n = torso_plane(x)
    assert n[2] < -0.99
    R = random_rotation(10, generator=torch.Generator().manual_seed(1))
    xr = (x - x[0]) @ R.transpose(-1, -2)
    _, nr = torso_plane(xr)
    assert torch.allclose(nr, n @ R.transpose(-1, -2), atol=1e-4)
    # a person turned around (rotated 180° about the vertical) has the opposite front
    turned = (x - x[0]) * torch.tensor([-1., 1., -1.])
    assert torso_plane(turned)[1][2] > 0.99


def test_labels_flip_through_the_plane():
    x = example_pose()
    c, n = torso_plane(x)
    wrist = H36M17.index('LWrist')
    k = attribute_joints(H36M17).index(wrist)
    steps = torch.linspace(-300, 300, 13) + 10        # -290 … 310, never exactly ±50
    poses = x.repeat(13, 1, 1)
    base = x[wrist] - ((x[wrist] - c) @ n) * n           # the wrist moved onto the plane
    poses[:, wrist] = base + steps[:, None] * n
    att = pose_attributes(poses, threshold=50.)
    assert torch.allclose(att.distance[:, k], steps, atol=1e-2)
    expect = torch.where(steps > 50, 2, torch.where(steps < -50, 0, 1))
    assert torch.equal(att.label[:, k], expect)
    # other joints are unaffected
    assert (att.label[:, [i for i in range(9) if i != k]] == att.label[:1, [i for i in range(9) if i != k]]).all()
    # threshold 0: on-plane only exactly at 0
    assert pose_attributes(poses, threshold=0.).label[[0, 6, 12], k].tolist() == [0, 2, 2]


def test_degenerate_torso():
    x = example_pose().clone()
    x[PLANE_IDS] = torch.tensor([[1., 0, 0]]) * torch.arange(5.)[:, None] * 100 + 4000  # collinear
    with pytest.raises(ValueError, match='degenerate'):
        pose_attributes(x)
    att = pose_attributes(torch.stack([x, example_pose()]), degenerate='fallback')
    assert torch.isfinite(att.distance).all() and torch.isfinite(att.normal).all()
    assert torch.allclose(att.normal.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert abs(float(att.normal[0] @ torch.tensor([1., 0, 0]))) < 1e-5      # contains the line
    x[PLANE_IDS] = 500.                                                       # coincident
    assert torch.isfinite(torso_plane(x, degenerate='fallback')[1]).all()
    with pytest.raises(ValueError, match='NaN'):
        torso_plane(torch.full((17, 3), float('nan')))
    with pytest.raises(ValueError, match=r'\(\.\.\., 17, 3\)'):
        torso_plane(torch.zeros(4, 16, 3))


def test_one_hot_and_wrong_sizes():
    lab = torch.tensor([[0, 1, 2, 1, 1, 1, 1, 1, 0]])
    oh = attributes_one_hot(lab)
    assert oh.shape == (1, 9, 3) and torch.equal(oh.argmax(-1), lab)
    with pytest.raises(ValueError, match='LElbow'):
        attributes_one_hot(lab[:, :8])
    net = DOFNet(attributes=True, width=32)
    with pytest.raises(ValueError, match=r'\(B=2, 9, 3\).*Head'):
        net(torch.zeros(2, 17, 2), torch.zeros(2, 8, 3))
    with pytest.raises(ValueError, match=r'\(B, 17, 2\)'):
        net(torch.zeros(2, 16, 2), torch.zeros(2, 9, 3))


def test_block2_receives_block1_outputs():
    torch.manual_seed(0)
    net = DOFNet(width=32, dropout=0.).eval()
    x = torch.randn(4, 17, 2)
    out = net.forward_blocks(x)
    y1 = out['block1']
    # gradient of Block-II's outputs w.r.t. each Block-I group output is non-zero ...
    grads = torch.autograd.grad(sum(y.sum() for y in out['block2']), y1, allow_unused=True, retain_graph=True)
    assert [g is not None and g.abs().sum() > 0 for g in grads] == [True, True, True]
    # ... and each module's input is exactly what eqs. 4-5 say (captured with forward hooks)
    seen = {}
    hooks = [G.register_forward_hook(lambda m, inp, o, key=(blk, k): seen.__setitem__(key, inp[0]))
             for blk in ('block1', 'block2') for k, G in enumerate(getattr(net, blk))]
    out = net.forward_blocks(x)
    for h in hooks: h.remove()
    X = x.flatten(1)
    y1, y2 = out['block1'], out['block2']
    expect = {('block1', 0): [X], ('block1', 1): [X, y1[0]], ('block1', 2): [X, y1[0], y1[1]],
              ('block2', 0): [X, y1[1], y1[2]], ('block2', 1): [X, y2[0], y1[2]], ('block2', 2): [X, y2[0], y2[1]]}
    for key, parts in expect.items():
        assert torch.equal(seen[key], torch.cat(parts, 1)), key
    # a Block-II-only loss trains every Block-I module (G11 only through G12 → Ŷ12 → G21)
    net.zero_grad()
    net(x).abs().sum().backward()
    assert all(G.out.weight.grad is not None and G.out.weight.grad.abs().sum() > 0 for G in net.block1)
    # baseline (eq. 7): the group regressors are independent
    base = DOFNet(progressive=False, width=32, dropout=0.).eval()
    yb = base.forward_blocks(x)['block1']
    assert torch.autograd.grad(yb[2].sum(), base.block1[0].out.weight, allow_unused=True)[0] is None


def test_outputs_and_loss():
    torch.manual_seed(0)
    for skel in (H36M17, H36M16):
        net = DOFNet(skel, width=32).eval()
        y = net(torch.randn(3, skel.num_joints, 2), return_blocks=True)
        assert set(y) == {'block1', 'block2'} and y['block2'].shape == (3, skel.num_joints, 3)
        assert (y['block1'][:, 0] == 0).all() and (y['block2'][:, 0] == 0).all()
    t = torch.zeros(3, 17, 3)
    blocks = {'block1': torch.ones(3, 17, 3), 'block2': torch.full((3, 17, 3), 2.)}
    assert dof_loss(blocks, t).item() == pytest.approx(3.0)       # eq. 6: L1 of both blocks, summed
    logits = torch.zeros(2, 9, 3); logits[..., 1] = 100
    assert attribute_loss(logits, torch.ones(2, 9, dtype=torch.long)).item() < 1e-6
    assert attribute_loss(torch.zeros(2, 9, 3), torch.ones(2, 9, dtype=torch.long)).item() == pytest.approx(math.log(3))
    # a few steps of training reduce both losses
    lifter = DOFLifter(variant='progressive_attr', width=64, attr_width=32)
    opt = torch.optim.Adam(lifter.parameters(), 3e-3)
    g = torch.Generator().manual_seed(0)
    y3 = (example_pose() - example_pose()[0]) / 1000 + torch.randn(64, 17, 3, generator=g) * 0.05
    y3[:, 0] = 0
    x2 = y3[..., :2] / (4.5 + y3[..., 2:])
    lab = pose_attributes(y3 * 1000 + torch.tensor([0, 0, 4500.])).label
    first = None
    for _ in range(60):
        blocks = lifter(x2, attributes_one_hot(lab), return_blocks=True)
        loss = dof_loss(blocks, y3) + attribute_loss(lifter.classifier(x2), lab)
        opt.zero_grad(); loss.backward(); opt.step()
        first = first or loss.item()
    assert loss.item() < 0.5 * first


def test_per_group_table_consistent_with_mpjpe():
    g = torch.Generator().manual_seed(0)
    gt = example_pose() + torch.randn(50, 17, 3, generator=g) * 50
    pred = gt + torch.randn(50, 17, 3, generator=g) * torch.linspace(10, 80, 17)[:, None]
    res = evaluate_poses(pred, gt)
    sizes = {k: len(v) for k, v in H36M17.part('dof').items()}
    assert sum(res['per_group'][k] * sizes[k] for k in sizes) / sum(sizes.values()) == pytest.approx(res['mpjpe'])
    for k, ids in H36M17.part('dof').items():
        assert res['per_group'][k] == pytest.approx(np.mean([res['per_joint'][H36M17.joint_names[j]] for j in ids]))


@pytest.fixture(scope='module')
def tiny():
    from posebench.data import load_benchmark
    train, tests = load_benchmark('default')
    return train[::150], {k: v[::160] for k, v in tests.items()}


def test_corrupt_labels_hits_the_requested_accuracy():
    from posebench.dof import corrupt_labels
    lab = torch.randint(0, 3, (4000, 9), generator=torch.Generator().manual_seed(0))
    assert torch.equal(corrupt_labels(lab, 1., torch.Generator().manual_seed(1)), lab)
    assert not (corrupt_labels(lab, 0., torch.Generator().manual_seed(1)) == lab).any()    # wrong = another class
    for acc in (0.3, 0.84):
        noisy = corrupt_labels(lab, acc, torch.Generator().manual_seed(2))
        assert abs((noisy == lab).float().mean().item() - acc) < 0.01 and noisy.min() >= 0 and noisy.max() <= 2
    with pytest.raises(ValueError, match='accuracy'): corrupt_labels(lab, 1.2, torch.Generator())


def test_noisy_gt_recipe_feeds_attributes_at_the_requested_accuracy(tiny):
    from posebench.dof import DOFRecipe, DOFOptions, attribute_labels
    from posebench.recipe import run
    from posebench.train import TrainConfig
    train, tests = tiny
    rec = DOFRecipe(DOFOptions('progressive_attr', 'noisy_gt', attr_accuracy=0.6, width=16, attr_width=16))
    lab = attribute_labels(train)
    given = rec._given(lab, torch.Generator().manual_seed(0))           # what the 3D network is fed
    assert given.shape == (len(train), 9, 3) and torch.equal(given.sum(-1), torch.ones(len(train), 9))
    assert abs((given.argmax(-1) == lab).float().mean().item() - 0.6) < 0.03
    r = run(rec, train, tests, TrainConfig(epochs=1, batch_size=64, device='cpu', progress=False))
    assert r.method == 'dof_progressive_attr[noisy_gt@60%]' and r.model.classifier is None and r.model.net.attributes
    assert r.extra['attributes'] == 'attributes: GT corrupted to 60 %'
    ps = next(iter(tests.values()))
    assert torch.equal(rec.predict_mm(ps), rec.predict_mm(ps))          # the same corruption every time it is asked
    assert 'attr_acc' not in r.tests[next(iter(tests))]


def test_train_dof_recipe_tiny(tiny, tmp_path):
    from posebench.train import TrainConfig
    from posebench.recipe import RunResult, load_run
    from posebench.dof import train_dof, attribute_accuracy
    train, tests = tiny
    cfg = TrainConfig(epochs=2, batch_size=64, lr=3e-3, device='cpu', progress=False)
    r = train_dof(train, tests, 'progressive_attr', cfg, attr_source='pred', width=32, attr_width=16, out_dir=tmp_path,
                  eval_samples=50)
    assert r.method == 'dof_progressive_attr[pred]' and r.model.classifier is not None and r.model.net.attributes
    name, ps = next(iter(tests.items()))
    t = r.tests[name]
    assert t['n'] == len(ps) and 0 <= t['attr_acc'] <= 100 and len(t['attr_acc_per_joint']) == 9
    assert t['attr_acc'] == pytest.approx(attribute_accuracy(r.model, ps)['attr_acc'])
    h = r.history
    assert {'loss', 'loss_3d', 'loss_attr', 'attr_acc'} <= set(h[0]) and h[1]['loss'] < h[0]['loss']
    assert RunResult.load(tmp_path / 'metrics.json').options['attr_source'] == 'pred'
    again = load_run(tmp_path)                                          # the options travel with the checkpoint
    assert again.opt == r.recipe_object.opt and torch.allclose(again.predict_mm(ps), r.recipe_object.predict_mm(ps), atol=1e-4)
    with pytest.raises(ValueError, match='variant'):
        train_dof(train, tests, 'bidirectional', cfg)
    with pytest.raises(ValueError, match='attr_source'):
        train_dof(train, tests, 'progressive_attr', cfg, attr_source='image')


def test_oracle_gt_source_feeds_the_exact_ground_truth(tiny):
    "attr_source='gt': no classifier, and the 3D network sees the exact one-hot ground truth in training and at test."
    from posebench.dof import DOFRecipe, DOFOptions, attribute_labels
    from posebench.recipe import run
    from posebench.train import TrainConfig
    train, tests = tiny
    rec = DOFRecipe(DOFOptions('progressive_attr', 'gt', attr_accuracy=0.3, width=16, attr_width=16))
    seen = []
    r = run(rec, train, tests, TrainConfig(epochs=1, batch_size=64, device='cpu', progress=False, shuffle=False))
    net = r.model.net
    assert r.model.classifier is None and net.attributes and 'loss_attr' not in r.history[0]
    assert r.method == 'dof_progressive_attr[gt]' and r.extra['attributes'] == 'attributes: GT (oracle)'
    hook = net.register_forward_pre_hook(lambda m, a: seen.append(a[1].detach().clone()))
    ps = next(iter(tests.values()))
    pred = rec.predict_mm(ps)
    hook.remove()
    given = torch.cat(seen)                                         # attr_accuracy is ignored: 100 % correct
    assert torch.equal(given, torch.nn.functional.one_hot(attribute_labels(ps), 3).float())
    assert torch.equal(pred, rec.predict_mm(ps))
    # training: the step feeds the batch's exact ground truth (the recipe's _given leaves 'gt' labels untouched)
    lab = attribute_labels(train)
    assert torch.equal(rec._given(lab, torch.Generator().manual_seed(0)).argmax(-1), lab)
    # wrong attributes change the prediction: the oracle's attributes are used
    other = rec._given((attribute_labels(ps) + 1) % 3, torch.Generator())
    with torch.no_grad():
        net.eval()
        assert not torch.allclose(net(ps.inputs2d().float(), torch.nn.functional.one_hot(attribute_labels(ps), 3).float()),
                                  net(ps.inputs2d().float(), other))


def test_attribute_labels_name_source_and_accuracy():
    from posebench.dof import DOFRecipe, DOFOptions, attribute_source_label, PAPER_ATTR_ACCURACY
    lab = lambda **kw: (DOFRecipe(DOFOptions(**kw)).method_name(), DOFRecipe(DOFOptions(**kw)).attributes_label())
    assert lab(variant='progressive_attr') == ('dof_progressive_attr[noisy_gt]', 'attributes: GT corrupted to 84 %')
    assert lab(variant='progressive_attr', attr_accuracy=0.7) == ('dof_progressive_attr[noisy_gt@70%]',
                                                                   'attributes: GT corrupted to 70 %')
    assert lab(variant='progressive_attr', attr_source='pred') == ('dof_progressive_attr[pred]',
                                                                   'attributes: predicted from the 2D input')
    assert lab(variant='progressive_attr', attr_source='gt', attr_accuracy=0.5) == ('dof_progressive_attr[gt]',
                                                                                     'attributes: GT (oracle)')
    assert lab(variant='progressive') == ('dof_progressive', 'no attributes')
    assert attribute_source_label('noisy_gt', 0.925) == 'attributes: GT corrupted to 92.5 %' and PAPER_ATTR_ACCURACY == 0.84
    with pytest.raises(ValueError, match='source'): attribute_source_label('image')
