"Tests of posebench.models: shapes, zero root, gradients, determinism, parameter counts, KCS, critics."
import pytest
import torch
from posebench.skeleton import H36M16, H36M17
from posebench import models as M

SKELS = [H36M16, H36M17]

def _x(skel, B=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, skel.num_joints, 2, generator=g) * 2 - 1

@pytest.mark.parametrize('skel', SKELS, ids=lambda s: s.name)
@pytest.mark.parametrize('name', sorted(M.MODELS))
def test_shapes_root_grad_determinism(name, skel):
    torch.manual_seed(0)
    net = M.get_model(name, skel)
    # zero-initialised gates (the non-local block's output BN) block the gradient to what feeds them at init, by
    # design; give them a value so the check below sees the whole graph
    with torch.no_grad():
        for p in net.parameters():
            if (p == 0).all(): p.normal_(0, 0.1)
    x = _x(skel)
    y = net.train()(x)
    assert y.shape == (4, skel.num_joints, 3)
    assert (y[:, 0] == 0).all()
    y.square().sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    # every weight matrix gets a non-zero gradient (biases right before a BN get an analytically zero one in train mode)
    missing = [n for n, p in net.named_parameters() if p.dim() > 1 and p.grad.abs().sum() == 0]
    assert not missing, f"no gradient reaches {missing}"
    if name == 'semgcn':  # the learnable edge weights of every layer get a gradient
        assert all(p.grad.abs().sum() > 0 for n, p in net.named_parameters() if n.endswith('.e'))
    net.eval()
    with torch.no_grad(): assert torch.equal(net(x), net(x))

@pytest.mark.parametrize('name', sorted(M.MODELS))
def test_bad_input_shape(name):
    net = M.get_model(name, H36M17)
    with pytest.raises(ValueError, match=r'\(B, 17, 2\)'): net(torch.zeros(2, 16, 2))

def test_unknown_model_lists_valid():
    with pytest.raises(ValueError, match='simple_baseline'): M.get_model('nope')

EXPECTED = {'simple_baseline': 4.29e6, 'videopose': 8.49e6, 'semgcn': 0.27e6, 'stgcn': 3.63e6}

@pytest.mark.parametrize('name', sorted(M.MODELS))
def test_parameter_counts_h36m16(name):
    n = M.count_parameters(M.get_model(name, H36M16))
    assert abs(n - EXPECTED[name]) / EXPECTED[name] < 0.10, (name, n)

def test_residual_block_skip_and_activation():
    blk = M.ResidualBlock(6, dropout=0., batch_norm=False, activation='leaky_relu')
    for p in blk.parameters(): torch.nn.init.zeros_(p)
    x = torch.randn(3, 6)
    assert torch.equal(blk(x), x)
    with pytest.raises(ValueError, match='leaky_relu'): M.ResidualBlock(6, activation='gelu')

def _pose3d(skel, B=3, seed=0):
    "Root-centred random-ish poses in metres built from random bones."
    from posebench.geometry import bones_to_joints
    g = torch.Generator().manual_seed(seed)
    return bones_to_joints(torch.randn(B, skel.num_bones, 3, generator=g) * 0.2, skel)

@pytest.mark.parametrize('skel', SKELS, ids=lambda s: s.name)
@pytest.mark.parametrize('part', ['torso', 'left_arm', 'right_arm', 'right_leg', 'left_leg'])
def test_kcs_part_invariance(skel, part):
    x = _pose3d(skel)
    K = M.kcs(x, skel, part)
    inside = set(skel.part('kcs', part))
    # move the child joint of a bone outside the part *and all its descendants with it*, so only that bone changes
    out_bone = next(b for b in range(skel.num_bones) if b not in inside)
    from posebench.geometry import joints_to_bones, bones_to_joints
    bones = joints_to_bones(x, skel)
    b2 = bones.clone(); b2[:, out_bone] += torch.tensor([0.05, -0.1, 0.2])
    assert torch.allclose(M.kcs(bones_to_joints(b2, skel), skel, part), K, atol=1e-6)
    b3 = bones.clone(); b3[:, sorted(inside)[-1]] += torch.tensor([0.05, -0.1, 0.2])
    assert not torch.allclose(M.kcs(bones_to_joints(b3, skel), skel, part), K, atol=1e-4)
    # entries of bones outside the part are zero; inside, the diagonal is 1 (unit bones)
    outside = [b for b in range(skel.num_bones) if b not in inside]
    assert (K[:, outside] == 0).all() and (K[:, :, outside] == 0).all()
    assert torch.allclose(K[:, sorted(inside), sorted(inside)], torch.ones(3, len(inside)), atol=1e-5)

def test_kcs_hand_computed_and_invariances():
    x = _pose3d(H36M16)
    from posebench.geometry import joints_to_bones, random_rotation
    b = joints_to_bones(x, H36M16)
    u = b / b.norm(dim=-1, keepdim=True)
    assert torch.allclose(M.kcs(x, H36M16), u @ u.transpose(1, 2), atol=1e-6)
    assert torch.allclose(M.kcs(x, H36M16, unit=False), b @ b.transpose(1, 2), atol=1e-6)
    R = random_rotation(3, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(M.kcs(x @ R.transpose(1, 2), H36M16), M.kcs(x, H36M16), atol=1e-5)
    assert torch.allclose(M.kcs(x, H36M16, part=[0, 1]), M.kcs(x, H36M16, part=(1, 0)))
    with pytest.raises(ValueError, match=r'\(\.\.\., 16, 3\)'): M.kcs(torch.zeros(2, 17, 3), H36M16)
    with pytest.raises(ValueError, match='out of range'): M.kcs(x, H36M16, part=[15])
    with pytest.raises(ValueError, match='left_arm'): M.kcs(x, H36M16, part='arm')

@pytest.mark.parametrize('skel', SKELS, ids=lambda s: s.name)
@pytest.mark.parametrize('parts', ['part', 'whole'])
def test_kcs_critic(skel, parts):
    torch.manual_seed(0)
    c = M.KCSCritic(skel, parts=parts)
    x = _pose3d(skel).requires_grad_()
    s = c(x)
    assert s.shape == (3, 1)
    s.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in c.parameters())
    nb = skel.num_bones
    assert all(path.inp[0].in_features == nb * nb for path in c.paths)
    assert len(c.paths) == (5 if parts == 'part' else 1)
    # per-part scores side by side; their sum is the default score
    c.reduce = 'none'
    sp = c(x.detach())
    assert sp.shape == (3, len(c.paths)) and torch.allclose(sp.sum(1, keepdim=True), s.detach(), atol=1e-5)
    # a part path only sees its own bones: changing a bone outside the left arm leaves that path's score unchanged
    if parts == 'part':
        from posebench.geometry import joints_to_bones, bones_to_joints
        b = joints_to_bones(x.detach(), skel)
        b[:, skel.part('kcs', 'right_leg')[2]] *= -1
        sp2 = c(bones_to_joints(b, skel))
        i = c.part_names.index('left_arm')
        assert torch.allclose(sp2[:, i], sp[:, i], atol=1e-6) and not torch.allclose(sp2, sp)
    with pytest.raises(ValueError, match='part'): M.KCSCritic(skel, parts='limbs')

def test_poseaug_kcs_critic_size():
    c = M.KCSCritic(H36M16)
    # PoseAug: five paths 225→256→256→256(+skip)→100→1
    assert M.count_parameters(c) == 5 * (225 * 256 + 256 + 2 * (256 * 256 + 256) + 256 * 100 + 100 + 101)

@pytest.mark.parametrize('kw', [{}, dict(width=100, blocks=1, mid=100, leaky_slope=0.01), dict(batch_norm=True)])
def test_critic2d(kw):
    torch.manual_seed(0)
    c = M.Critic2D(17, **kw)
    x = _x(H36M17).requires_grad_()
    s = c(x)
    assert s.shape == (4, 1)
    s.sum().backward()
    assert x.grad.abs().sum() > 0 and all(p.grad is not None for p in c.parameters())
    assert torch.allclose(c.eval()(x.flatten(1)), c.eval()(x))  # flattened input is accepted too
    with pytest.raises(ValueError, match=r'\(B, 17, 2\)'): c(torch.zeros(2, 16, 2))

def test_svmac_critic_size():
    # SVMAC: 34 → 1024, three residual blocks without BN, linear score
    w = 1024
    assert M.count_parameters(M.Critic2D(17)) == 34 * w + w + 3 * 2 * (w * w + w) + w + 1

def test_semgcn_edges_follow_skeleton():
    net = M.SemGCN(H36M16)
    conv = net.out
    W = conv.edge_weights()
    for j, p in enumerate(H36M16.parents):
        assert W[j, j] > 0
        if p >= 0: assert W[j, p] > 0 and W[p, j] > 0
    assert int(conv.mask.sum()) == 16 + 2 * 15
    assert torch.allclose(W.sum(1), torch.ones(16))

def test_stgcn_midpoint_node():
    # 16 joints: a Thorax–Head midpoint node is added (17 graph nodes); 17 joints: used as given
    assert M.STGCN(H36M16).midpoint and not M.STGCN(H36M17).midpoint
    # every graph node belongs to exactly one pooling part
    net = M.STGCN(H36M16)
    nodes = sorted(sum(net.part_nodes, []))
    assert nodes == list(range(17))

def test_get_model_options():
    net = M.get_model('simple_baseline', 'h36m16', width=64, blocks=1, dropout=0.25)
    assert net.skeleton is H36M16 and net.out.in_features == 64 and len(net.blocks) == 1
    with pytest.raises(ValueError, match='width'): M.get_model('simple_baseline', hidden=64)
    with pytest.raises(ValueError, match='h36m17'): M.get_model('semgcn', 'h36m15')


@pytest.mark.parametrize('name, kw, match', [
    ('simple_baseline', {'width': 0}, 'option width must be >= 1, got 0'),
    ('simple_baseline', {'blocks': -1}, 'option blocks must be >= 0, got -1'),
    ('simple_baseline', {'dropout': 1.5}, r'option dropout must be a probability in \[0, 1\), got 1.5'),
    ('simple_baseline', {'width': '256'}, "option width must be an int, got str '256'"),
    ('semgcn', {'hidden': 0}, 'option hidden must be >= 1, got 0'),
    ('videopose', {'channels': -5}, 'option channels must be >= 1, got -5'),
    ('critic2d', {'width': 0}, 'option width must be >= 1, got 0')])
def test_get_model_refuses_sizes_that_build_broken_networks(name, kw, match):
    "Zero or negative sizes (an empty layer, a division by zero), dropout outside [0, 1): refused naming option and value."
    with pytest.raises(ValueError, match=match): M.get_model(name, **kw)
    assert M.get_model('simple_baseline', width=8, blocks=0) is not None      # no residual block is a valid network
