"Tests of posebench.data: PoseSet, cameras, readers (on small files written here), benchmarks, default data."
import functools, os, sys, types
import numpy as np
import pytest
import torch
from posebench import data as D
from posebench.data import PoseSet
from posebench.skeleton import H36M17, H36M16
from posebench.geometry import camera_to_world, bone_lengths, project
from posebench.mocap import z_up_to_y_up
import posebench.data.readers as readers

def _body(n, seed=0):
    "n real-looking camera-frame poses (mm, H36M17) from the default set, with a little noise."
    g = torch.Generator().manual_seed(seed)
    return D.default_dataset().pose3d[:n * 37:37] + torch.randn(n, 17, 3, generator=g) * 5

def _ps(n=10, J=17, seed=0, **kw):
    p3 = _body(n, seed)
    if J == 16: p3 = p3[:, H36M17.index(list(H36M16.joint_names))]
    cam = D.h36m_cameras()[torch.arange(n) % 4]
    p2 = project(p3, cam[:, :4])
    args = dict(pose3d=p3, pose2d=p2, camera=cam, subject=np.array(['S1', 'S9'] * (n // 2)),
                action=np.array(['walk'] * (n // 2) + ['sit'] * (n - n // 2)), sequence=np.arange(n) // 5, fps=50.,
                skeleton=H36M17 if J == 17 else H36M16, name='toy')
    args.update(kw)
    return PoseSet(**args)

# ---------------------------------------------------------------- PoseSet validation
def test_mismatched_lengths():
    ps = _ps()
    with pytest.raises(ValueError, match=r"mismatched lengths.*pose3d \(10, 17, 3\).*pose2d \(9, 17, 2\)"):
        PoseSet(ps.pose3d, ps.pose2d[:9], ps.camera, ps.subject, ps.action, ps.sequence)
    with pytest.raises(ValueError, match="subject"):
        PoseSet(ps.pose3d, ps.pose2d, ps.camera, ps.subject[:3], ps.action, ps.sequence)
    with pytest.raises(ValueError, match="camera"):
        PoseSet(ps.pose3d, ps.pose2d, ps.camera[:, :4], ps.subject, ps.action, ps.sequence)

def test_wrong_joint_count_and_nan():
    ps = _ps()
    with pytest.raises(ValueError, match=r"pose3d.*\(\.\.\., 17, 3\).*got \(10, 16, 3\)"):
        PoseSet(ps.pose3d[:, :16], ps.pose2d, ps.camera, ps.subject, ps.action, ps.sequence)
    bad = ps.pose3d.clone(); bad[3, 2, 1] = float('nan')
    with pytest.raises(ValueError, match=r"pose3d.*NaN/inf.*\[3\]"):
        PoseSet(bad, ps.pose2d, ps.camera, ps.subject, ps.action, ps.sequence)
    bad = ps.pose2d.clone(); bad[1, 0, 0] = float('inf')
    with pytest.raises(ValueError, match="pose2d.*NaN/inf"):
        PoseSet(ps.pose3d, bad, ps.camera, ps.subject, ps.action, ps.sequence)
    cam = ps.camera.clone(); cam[0, 4] = float('nan')
    with pytest.raises(ValueError, match="width/height"):
        PoseSet(ps.pose3d, ps.pose2d, cam, ps.subject, ps.action, ps.sequence)

def test_indexing_filter_split_subsample():
    ps = _ps(20)
    assert len(ps[3]) == 1 and torch.equal(ps[3].pose3d[0], ps.pose3d[3])
    assert len(ps[2:7]) == 5 and list(ps[[0, 5]].subject) == ['S1', 'S9']
    m = ps.subject == 'S9'
    assert (ps[m].subject == 'S9').all() and len(ps[torch.as_tensor(m)]) == m.sum()
    assert (ps.filter(subjects='S1', actions=['walk']).subject == 'S1').all()
    with pytest.raises(ValueError, match=r"unknown subject \['S3'\].*\['S1', 'S9'\]"): ps.filter(subjects=['S3'])
    with pytest.raises(ValueError, match=r"unknown action \['run'\].*\['sit', 'walk'\]"): ps.filter(actions='run')
    tr, te = ps.split(['S1'], ['S9'])
    assert set(tr.subject) == {'S1'} and set(te.subject) == {'S9'} and len(tr) + len(te) == len(ps)
    with pytest.raises(ValueError, match="both"): ps.split(['S1'], ['S1', 'S9'])
    big = D.default_dataset()
    q = big.subsample(0.25, seed=1)
    assert len(q) == round(0.25 * len(big))
    assert torch.equal(q.pose3d, big.subsample(0.25, seed=1).pose3d)
    assert not torch.equal(q.pose3d, big.subsample(0.25, seed=2).pose3d)
    with pytest.raises(ValueError, match="fraction"): ps.subsample(0.)

def test_normalise_round_trip_and_tensors():
    ps = _ps(8)
    x = ps.inputs2d()
    assert x.shape == (8, 17, 2) and x.abs().max() < 3
    torch.testing.assert_close(ps.pixels(x), ps.pose2d, atol=1e-3, rtol=0)
    # image centre -> (0, ~0): normalize_screen semantics of VideoPose3D
    c = PoseSet(ps.pose3d[:1], torch.full((1, 17, 2), 500.), torch.tensor([[1e3, 1e3, 500, 500, 1000, 1000.]]), 'a', 'b', 0)
    torch.testing.assert_close(c.inputs2d(), torch.zeros(1, 17, 2))
    t = ps.tensors()
    torch.testing.assert_close(t['y'] * 1000, ps.pose3d - ps.pose3d[:, :1])
    assert t['y'][:, 0].abs().max() == 0 and torch.equal(t['x'], x) and t['sequence'].dtype == torch.int64

def test_with_skeleton_save_load_concat(tmp_path):
    ps = _ps(10)
    p16 = ps.with_skeleton(H36M16)
    assert p16.skeleton is H36M16 and p16.pose3d.shape == (10, 16, 3)
    assert torch.equal(p16.pose3d[:, 9], ps.pose3d[:, 10])          # Head moves from 10 to 9 (Nose dropped)
    f = tmp_path / 'ps.npz'
    p16.save(f)
    back = PoseSet.load(f)
    assert back.skeleton is H36M16 and torch.equal(back.pose2d, p16.pose2d) and list(back.subject) == list(p16.subject)
    assert back.fps == 50. and (back.sequence == p16.sequence).all()
    both = PoseSet.concat([ps, ps])
    assert len(both) == 20 and len(np.unique(both.sequence)) == 2 * len(np.unique(ps.sequence))
    with pytest.raises(ValueError, match="skeleton"): PoseSet.concat([ps, p16])

def test_read_npz_bad_files(tmp_path):
    ps = _ps(4)
    f = tmp_path / 'x.npz'
    ps.save(f)
    d = dict(np.load(f))
    del d['camera']
    np.savez(tmp_path / 'nocam.npz', **d)
    with pytest.raises(ValueError, match=r"nocam\.npz.*missing key\(s\) \['camera'\]"): D.read_npz(tmp_path / 'nocam.npz')
    d = dict(np.load(f)); d['pose2d'] = d['pose2d'][:3]
    np.savez(tmp_path / 'short.npz', **d)
    with pytest.raises(ValueError, match=r"short\.npz.*mismatched lengths"): D.read_npz(tmp_path / 'short.npz')
    d = dict(np.load(f)); d['subject'] = np.array([{'a': 1}] * 4, dtype=object)
    np.savez(tmp_path / 'obj.npz', **d)
    with pytest.raises(ValueError, match="pickled"): D.read_npz(tmp_path / 'obj.npz')
    with pytest.raises(ValueError, match="not found"): D.read_npz(tmp_path / 'nope.npz')

# ---------------------------------------------------------------- cameras, from_world
def test_h36m_cameras():
    K = D.h36m_cameras()
    assert K.shape == (4, 6)
    torch.testing.assert_close(K[0], torch.tensor([1145.0494, 1143.7811, 512.5415, 515.4515, 1000., 1002.]))
    cams = D.h36m_camera_params('S9')
    # the capture centre is in front of every camera, ~5 m away, and projects near the image centre
    centre = torch.tensor([[[0., 0., 900.]]])
    from posebench.geometry import world_to_camera
    xc = world_to_camera(centre, cams['R'][:, None], cams['t'][:, None])
    assert (xc[..., 2] > 3500).all() and (xc[..., 2] < 6000).all()
    uv = project(xc, cams['intrinsics'][:, None, :4])
    assert ((uv - 500).abs() < 300).all()
    head = world_to_camera(torch.tensor([[[0., 0., 1700.]]]), cams['R'][:, None], cams['t'][:, None])
    foot = world_to_camera(torch.tensor([[[0., 0., 80.]]]), cams['R'][:, None], cams['t'][:, None])
    assert (head[..., 1] < foot[..., 1]).all()               # Human3.6M cameras are upright too (y down)
    with pytest.raises(ValueError, match="S2"): D.h36m_camera_params('S2')

def test_virtual_cameras_look_at_subject():
    cams = D.virtual_cameras(4, distance_mm=5000, height_mm=1500, target_height_mm=900)
    assert cams['R'].shape == (4, 3, 3) and cams['intrinsics'].shape == (4, 6)
    torch.testing.assert_close(cams['t'][:, :2].norm(dim=-1), torch.full((4,), 5000.))
    from posebench.geometry import world_to_camera
    xc = world_to_camera(torch.tensor([[0., 0., 900.]]), cams['R'], cams['t'])   # (4, 1, 3): the target
    torch.testing.assert_close(xc[:, 0, :2], torch.zeros(4, 2), atol=1e-3, rtol=0)
    # a point above the target appears higher in the image (smaller v): cameras are upright
    up = world_to_camera(torch.tensor([[0., 0., 1900.]]), cams['R'], cams['t'])
    assert (up[:, 0, 1] < 0).all()
    # and a standing figure is upright in every image: head above the feet (smaller v)
    ps = D.default_dataset()[:120 * 8]
    assert (ps.pose2d[:, 10, 1] < ps.pose2d[:, 3, 1]).all()

@functools.lru_cache(maxsize=1)
def _motions(): return D.default_motions(0, seqs_per_pair=1, frames=60)   # one clip per subject and action

def _walk(F=30, J=17, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = _motions()[0][0, :F]                                # a walking clip, Z-up mm
    return base + torch.randn(1, J, 3, generator=g)

def test_from_world_order_centring_and_up():
    X = torch.cat([_walk(30), _walk(20) + torch.tensor([3000., -2000., 0.])])
    seq = np.r_[np.zeros(30, int), np.ones(20, int)]
    ps = D.from_world(X, 'S1', 'walk', seq, 30.)
    C = 4
    assert len(ps) == 50 * C and len(np.unique(ps.sequence)) == 2 * C
    s = ps.sequence
    assert (np.diff(s) >= 0).all()                        # contiguous, clip by clip, camera by camera
    cams = D.virtual_cameras()
    first = ps[s == 0]                                    # clip 0 seen by camera 0: back to world
    w = camera_to_world(first.pose3d, cams['R'][0], cams['t'][0])
    torch.testing.assert_close(w[:, 0, :2].mean(0), torch.zeros(2), atol=1e-2, rtol=0)   # centred per clip
    torch.testing.assert_close(w - w[:1, :1], X[:30] - X[:1, :1], atol=1e-2, rtol=0)      # motion kept
    # Y-up input gives the same result after the (x, y, z) -> (x, -z, y) mapping
    Xy = z_up_to_y_up(X)
    py = D.from_world(Xy, 'S1', 'walk', seq, 30., up='y')
    torch.testing.assert_close(py.pose3d, ps.pose3d, atol=1e-2, rtol=0)
    with pytest.raises(ValueError, match="up"): D.from_world(X, 'S1', 'walk', seq, up='x')
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 17, 3\)"): D.from_world(X[:, :16], 'S1', 'w')

# ---------------------------------------------------------------- readers on files written here
def _write_h36m(tmp_path, F=12, extra2d=5, two_d=True):
    g = np.random.default_rng(0)
    base = g.normal(0, 0.2, (1, 32, 3)) + np.array([0, 0, 0.9])
    w = _walk(1)[0].numpy()                                    # a real-looking body (Z-up mm) at the 17 kept joints
    base[0, D.H36M_32_TO_17] = (w - w[:1] * np.array([1, 1, 0])) / 1000     # metres, like the file
    pos = {'S1': {'Walking 1': (base + g.normal(0, 0.01, (F, 32, 3))).astype(np.float32),
                  'Sitting': (base + g.normal(0, 0.01, (F + 3, 32, 3))).astype(np.float32)},
           'S9': {'Walking': (base + g.normal(0, 0.01, (F, 32, 3))).astype(np.float32)}}
    np.savez(tmp_path / 'data_3d_h36m.npz', positions_3d=pos)
    if two_d:
        p2 = {s: {a: [g.uniform(0, 1000, (len(v) + extra2d, 17, 2)).astype(np.float32) for _ in range(4)]
                  for a, v in acts.items()} for s, acts in pos.items()}
        np.savez(tmp_path / 'data_2d_h36m_cpn.npz', positions_2d=p2,
                 metadata={'num_joints': 17, 'keypoints_symmetry': [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]})
    return pos

def test_read_h36m(tmp_path):
    pos = _write_h36m(tmp_path)
    with pytest.raises(ValueError, match="allow_pickle to True"): D.read_h36m(tmp_path / 'data_3d_h36m.npz')
    ps = D.read_h36m(tmp_path / 'data_3d_h36m.npz', allow_pickle=True)
    assert len(ps) == 4 * (12 + 15 + 12) and ps.fps == 50 and len(np.unique(ps.sequence)) == 12
    assert set(ps.action) == {'Walking', 'Sitting'}
    # back to world with S1's camera 0 gives the 17 kept joints of the file in mm
    s1w = ps[(ps.subject == 'S1') & (ps.action == 'Walking')]
    cams = D.h36m_camera_params('S1')
    w = camera_to_world(s1w.pose3d[:12], cams['R'][0], cams['t'][0])
    torch.testing.assert_close(w, torch.as_tensor(pos['S1']['Walking 1'][:, D.H36M_32_TO_17] * 1000), atol=0.05, rtol=0)
    # detections longer than the mocap are trimmed to it
    p2 = np.load(tmp_path / 'data_2d_h36m_cpn.npz', allow_pickle=True)['positions_2d'].item()
    ps2 = D.read_h36m(tmp_path / 'data_3d_h36m.npz', tmp_path / 'data_2d_h36m_cpn.npz', allow_pickle=True)
    assert len(ps2) == len(ps)
    torch.testing.assert_close(ps2[s1w.sequence[0] == ps2.sequence].pose2d, torch.as_tensor(p2['S1']['Walking 1'][0][:12]))
    # 2D shorter than the 3D is an error naming the clip
    _write_h36m(tmp_path, extra2d=-2)
    with pytest.raises(ValueError, match=r"S1/Walking 1/camera 0.*\(12, 17, 2\)"):
        D.read_h36m(tmp_path / 'data_3d_h36m.npz', tmp_path / 'data_2d_h36m_cpn.npz', allow_pickle=True)
    # PoseAug's 16-joint 2D files give an H36M16 set
    p2_16 = {s: {a: [v[:, [j for j in range(17) if j != 9]] for v in cams] for a, cams in acts.items()} for s, acts in p2.items()}
    np.savez(tmp_path / 'data_2d_h36m_16.npz', positions_2d=p2_16)
    ps16 = D.read_h36m(tmp_path / 'data_3d_h36m.npz', tmp_path / 'data_2d_h36m_16.npz', allow_pickle=True)
    assert ps16.skeleton is H36M16 and torch.equal(ps16.pose3d, ps2.with_skeleton(H36M16).pose3d)
    with pytest.raises(ValueError, match="S7"): D.read_h36m(tmp_path / 'data_3d_h36m.npz', allow_pickle=True, subjects=['S7'])

@pytest.mark.parametrize('reader,fname', [(D.read_3dhp_test, 'test_3dhp.npz'), (D.read_3dpw_test, 'test_3dpw.npz')])
def test_read_poseaug_test_sets(tmp_path, reader, fname):
    g = np.random.default_rng(1)
    b = _body(7)[:, H36M17.index(list(H36M16.joint_names))]
    p3 = ((b - b[:, :1]) / 1000).numpy().astype(np.float32)          # root-relative metres, camera frame
    p2 = g.uniform(-0.8, 0.8, (7, 16, 2)).astype(np.float32)
    np.savez(tmp_path / fname, pose3d=p3, pose2d=p2)
    ps = reader(tmp_path / fname)
    assert ps.skeleton is H36M16 and len(ps) == 7
    torch.testing.assert_close(ps.inputs2d(), torch.as_tensor(p2), atol=1e-5, rtol=0)
    torch.testing.assert_close(ps.targets3d(), torch.as_tensor(p3) * 1000)
    assert torch.isnan(ps.camera[:, :4]).all()                # intrinsics unknown
    np.savez(tmp_path / 'bad.npz', pose3d=p3[:, :15], pose2d=p2)
    with pytest.raises(ValueError, match=r"pose3d.*\(7, 15, 3\).*\(N, 16, 3\)"): reader(tmp_path / 'bad.npz')
    np.savez(tmp_path / 'bad2.npz', pose3d=p3)
    with pytest.raises(ValueError, match=r"missing key\(s\) \['pose2d'\]"): reader(tmp_path / 'bad2.npz')
    np.savez(tmp_path / 'bad3.npz', pose3d=p3, pose2d=p2[:5])
    with pytest.raises(ValueError, match="7 frames but pose2d 5"): reader(tmp_path / 'bad3.npz')

def test_mocap_wrappers_with_stub(monkeypatch, tmp_path):
    "read_bvh / read_asf_amc: Y-up positions from posebench.mocap are filmed like from_world(up='y')."
    X = _walk(10)
    Xy = z_up_to_y_up(X)
    monkeypatch.setattr(readers, 'bvh_to_h36m17', lambda p, to_z_up=False: ((X if to_z_up else Xy).numpy(), 60.))
    monkeypatch.setattr(readers, 'asf_amc_to_h36m17', lambda a, m: (Xy.numpy(), 120.))
    ref = D.from_world(X, 's', 'walk', 0, 60.)
    ps = D.read_bvh(tmp_path / 'clip.bvh', subject='s', action='walk')
    assert ps.fps == 60. and len(ps) == 40
    torch.testing.assert_close(ps.pose3d, ref.pose3d, atol=1e-2, rtol=0)
    pa = D.read_asf_amc(tmp_path / 'a.asf', tmp_path / 'a.amc')
    assert pa.fps == 120. and set(pa.subject) == {'a'}
    # with to_z_up=True the reader gets Z-up positions and must not turn them again
    torch.testing.assert_close(D.read_bvh(tmp_path / 'c.bvh', to_z_up=True).pose3d, ref.pose3d, atol=1e-2, rtol=0)

def test_read_bvh_real(cmu_raw):
    pytest.importorskip('posebench.mocap')
    ps = D.read_bvh(cmu_raw / '02_01.bvh', action='walk')
    assert len(ps) > 100 and ps.skeleton is H36M17
    bl = bone_lengths(ps.pose3d)
    assert (bl.std(0) < 0.05 * bl.mean(0) + 1).all()          # rigid skeleton: bone lengths constant

def _write_hdm05(path):
    X = torch.cat([_walk(12), _walk(8, seed=1)]).numpy()
    np.savez(path, positions=X, subject=np.array(['bd'] * 12 + ['mm'] * 8), action=np.array(['walk'] * 20),
             clip=np.r_[np.zeros(12), np.ones(8)].astype(np.int32), frame=np.r_[np.arange(12), np.arange(8)], fps=np.float32(30))

def test_load_hdm05_small(tmp_path):
    _write_hdm05(tmp_path / 'hdm05_h36m17.npz')
    ps = D.load_hdm05(tmp_path)                                # a folder holding the file works too
    assert len(ps) == 80 and len(np.unique(ps.sequence)) == 8 and ps.fps == 30
    tr, te = D.load_benchmark('hdm05', root=tmp_path / 'hdm05_h36m17.npz')
    assert set(tr.subject) == {'bd'} and list(te) == ['hdm05_mm_tr'] and set(te['hdm05_mm_tr'].subject) == {'mm'}
    np.savez(tmp_path / 'broken.npz', positions=np.zeros((3, 17, 3)))
    with pytest.raises(ValueError, match=r"broken\.npz.*missing key\(s\).*'subject'"): D.load_hdm05(tmp_path / 'broken.npz')

def test_load_cmu_small(tmp_path):
    F = 40
    X = z_up_to_y_up(_walk(F)).numpy()
    valid = np.ones(F, bool); valid[20] = False
    np.savez(tmp_path / 'cmu_h36m17.npz', positions=X, subject=np.array(['cmu02'] * F), action=np.array(['walk'] * F),
             sequence=np.array(['02_01'] * F), frame_index=np.arange(F), valid=valid, fps=np.float32(120))
    ps = D.load_cmu(tmp_path / 'cmu_h36m17.npz', fps=30)
    # every 4th frame: 0, 4, ..., 36 (10 frames); frame 20 is invalid -> 9 frames, cut into two sequences
    assert len(ps) == 9 * 4 and ps.fps == 30 and len(np.unique(ps.sequence)) == 2 * 4
    assert len(D.load_cmu(tmp_path / 'cmu_h36m17.npz', fps=120)) == (F - 1) * 4
    with pytest.raises(ValueError, match="divide"): D.load_cmu(tmp_path / 'cmu_h36m17.npz', fps=50)

def test_real_mocap(hdm05_npz, cmu_npz):
    h = D.load_hdm05(hdm05_npz)
    assert set(h.subject) == {'bd', 'bk', 'dg', 'mm', 'tr'} and len(h) == 4 * 17878
    assert h.pose3d[..., 2].min() > 1000                      # everything in front of the cameras
    c = D.load_cmu(cmu_npz)
    assert c.fps == 30 and 4 * 24263 / 4 * 0.95 < len(c) < 4 * 24263 / 4 * 1.05
    tr, te = D.load_benchmark('cmu', root=cmu_npz)
    assert set(te['cmu_cmu09_cmu12_cmu14'].action) == set(tr.action) == {'walk', 'run', 'jump'}

def test_load_dataset_errors(monkeypatch, tmp_path):
    monkeypatch.delenv('POSEBENCH_HDM05', raising=False)
    with pytest.raises(ValueError, match="POSEBENCH_HDM05.*hdm05_h36m17.npz|hdm05_h36m17.npz.*POSEBENCH_HDM05"):
        D.load_dataset('hdm05')
    _write_hdm05(tmp_path / 'h.npz')
    monkeypatch.setenv('POSEBENCH_HDM05', str(tmp_path / 'h.npz'))
    assert len(D.load_dataset('hdm05')) == 80
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"): D.load_dataset('mnist')
    with pytest.raises(ValueError, match="test set only"): D.load_benchmark('3dhp', root=tmp_path)
    ps = _ps(20); ps.save(tmp_path / 'mine.npz')
    tr, te = D.load_benchmark(str(tmp_path / 'mine.npz'), seed=0)
    (name, t), = te.items()
    assert len(tr) + len(t) == 20 and not set(tr.subject) & set(t.subject)

# ---------------------------------------------------------------- default data
def test_default_dataset_deterministic_and_plausible():
    ps = D.default_dataset()
    assert ps is D.default_dataset(0)                          # cached
    assert 30_000 <= len(ps) <= 60_000 and set(ps.subject) == set(D.DEFAULT_SUBJECTS)
    assert set(ps.action) == set(D.DEFAULT_ACTIONS)
    small = dict(seqs_per_pair=1, frames=8)
    X1, X2, X3 = (D.default_motions(s, **small)[0] for s in (0, 0, 1))
    assert torch.equal(X1, X2) and not torch.allclose(X1, X3)
    # bone lengths constant per subject, different between subjects
    bl = bone_lengths(ps.pose3d)
    means = []
    for s in D.DEFAULT_SUBJECTS:
        b = bl[torch.as_tensor(ps.subject == s)]
        assert (b.max(0).values - b.min(0).values).max() < 0.05
        means.append(b[0])
    assert torch.stack(means).std(0).min() > 1
    # knees never bend backwards: (thigh x shin) points to the subject's left
    x = ps.pose3d
    right = x[:, 1] - x[:, 4]
    for hip, knee, foot in ((1, 2, 3), (4, 5, 6)):
        n = torch.linalg.cross(x[:, knee] - x[:, hip], x[:, foot] - x[:, knee])
        assert ((n * right).sum(-1) / (right.norm(dim=-1) * 1e5) < 1e-3).all()
    # feet on the floor (jumps leave it, not by more than half a metre)
    X, _, act = _motions()
    low = X[..., [3, 6], 2].amin(-1)
    assert (low >= 79).all() and (low[torch.as_tensor(act != 'jump')] < 150).all() and low.max() < 600
    # in front of every camera, mostly inside the 1000 x 1000 images
    assert ps.pose3d[..., 2].min() > 1000
    inside = ((ps.pose2d >= 0) & (ps.pose2d <= 1000)).all(-1).all(-1).float().mean()
    assert inside > 0.95
    tr, te = D.load_benchmark('default')
    assert set(tr.subject) == {'S1', 'S5', 'S6', 'S7', 'S8'} and set(te['default_S9_S11'].subject) == {'S9', 'S11'}

def test_read_asf_amc_real_matches_hdm05(hdm05_raw, hdm05_npz):
    "FK of the raw ASF/AMC (every 4th frame) gives the npz clip, filmed by the same cameras (root-centred, mm)."
    pytest.importorskip('posebench.mocap')
    a = D.read_asf_amc(hdm05_raw / 'HDM_mm.asf', hdm05_raw / 'HDM_mm_squat1Reps_037_120.amc', action='squat1Reps')
    assert a.fps == 120 and len(np.unique(a.sequence)) == 4
    clip = list(np.load(hdm05_npz)['clip_names']).index('HDM_mm_squat1Reps_037_120.amc')
    h = D.load_hdm05(hdm05_npz)
    for cam in range(4):
        hc, ac = h[h.sequence == clip * 4 + cam], a[a.sequence == cam][::4]
        n = min(len(hc), len(ac))
        torch.testing.assert_close(hc.targets3d()[:n], ac.targets3d()[:n], atol=0.05, rtol=0)

# ---------------------------------------------------------------- issue 18: implausible data is refused, errors are clear
def _hdm05_file(path, X, fps=30.):
    "An HDM05-layout npz (world Z-up mm) holding motion X (F, 17, 3)."
    F = len(X)
    np.savez(path, positions=np.asarray(X, np.float32), subject=np.array(['bd'] * F), action=np.array(['walk'] * F),
             clip=np.zeros(F, np.int32), fps=np.float32(fps))
    return path

def _refused(f, fname, check, *args, **kw):
    "`f` raises a ValueError naming the file, the check, a measured value and the skip_checks override."
    with pytest.raises(ValueError) as e: f(*args, **kw)
    msg = str(e.value)
    assert fname in msg and f"check {check!r}" in msg and f"skip_checks=({check!r},)" in msg, msg
    return msg

def test_units_metres_refused(tmp_path):
    "3D in metres where millimetres are expected (and mm where metres are) is refused by 'units', per reader."
    X = _walk(20)
    _refused(D.load_hdm05, 'm.npz', 'units', _hdm05_file(tmp_path / 'm.npz', X / 1000))
    ps = _ps(8); PoseSet(ps.pose3d / 1000, ps.pose2d, ps.camera, 'S1', 'w', 0).save(tmp_path / 'ps_m.npz')
    msg = _refused(D.read_npz, 'ps_m.npz', 'units', tmp_path / 'ps_m.npz')
    assert 'median bone length 0.2' in msg
    b = _body(6)[:, H36M17.index(list(H36M16.joint_names))]
    np.savez(tmp_path / 'test_3dhp.npz', pose3d=(b - b[:, :1]).numpy(), pose2d=np.zeros((6, 16, 2), np.float32) + 0.1)
    _refused(D.read_3dhp_test, 'test_3dhp.npz', 'units', tmp_path / 'test_3dhp.npz')   # mm in a metres format
    # the override reads it anyway
    assert len(D.load_hdm05(tmp_path / 'm.npz', skip_checks=('units', 'image_range'))) == 80   # tiny in the images too

def test_joint_order_permuted_refused(tmp_path):
    "Joints in another order (a 'thigh' from hip to foot) are refused by 'bone_lengths'."
    perm = list(range(17)); perm[2], perm[3] = 3, 2
    msg = _refused(D.load_hdm05, 'perm.npz', 'bone_lengths', _hdm05_file(tmp_path / 'perm.npz', _walk(20)[:, perm]))
    assert 'RHip->RKnee' in msg
    ps = _ps(8); PoseSet(ps.pose3d[:, perm], ps.pose2d, ps.camera, 'S1', 'w', 0).save(tmp_path / 'ps_perm.npz')
    _refused(D.read_npz, 'ps_perm.npz', 'bone_lengths', tmp_path / 'ps_perm.npz')

def test_left_right_swapped_refused(tmp_path):
    "Left and right joints swapped (or mirrored data) are refused by 'left_right'; the true data passes."
    X = _walk(30)
    assert len(D.load_hdm05(_hdm05_file(tmp_path / 'ok.npz', X))) == 120
    _refused(D.load_hdm05, 'swap.npz', 'left_right', _hdm05_file(tmp_path / 'swap.npz', X[:, H36M17.flip_perm]))
    _refused(D.load_hdm05, 'mirror.npz', 'left_right', _hdm05_file(tmp_path / 'mirror.npz', X * torch.tensor([-1., 1., 1.])))
    ps = _ps(10); PoseSet(ps.pose3d[:, H36M17.flip_perm], ps.pose2d, ps.camera, 'S1', 'w', 0).save(tmp_path / 'ps_swap.npz')
    _refused(D.read_npz, 'ps_swap.npz', 'left_right', tmp_path / 'ps_swap.npz')

def test_up_axis_refused(tmp_path):
    "Y-up data in a Z-up file (HDM05 layout) and Z-up data in a Y-up file (CMU layout) are refused by 'up_axis'."
    X = _walk(20)
    _refused(D.load_hdm05, 'yup.npz', 'up_axis', _hdm05_file(tmp_path / 'yup.npz', z_up_to_y_up(X)))
    F = len(X)
    np.savez(tmp_path / 'cmu_zup.npz', positions=X.numpy(), subject=np.array(['cmu02'] * F), action=np.array(['walk'] * F),
             sequence=np.array(['02_01'] * F), fps=np.float32(120))
    _refused(D.load_cmu, 'cmu_zup.npz', 'up_axis', tmp_path / 'cmu_zup.npz', fps=120)

def test_depth_refused(tmp_path):
    "Camera-frame poses behind the camera (z <= 0) or at a tiny depth are refused by 'depth'."
    ps = _ps(8)
    PoseSet(ps.pose3d - torch.tensor([0., 0., 6000.]), ps.pose2d, ps.camera, 'S1', 'w', 0).save(tmp_path / 'behind.npz')
    assert 'z <= 0' in _refused(D.read_npz, 'behind.npz', 'depth', tmp_path / 'behind.npz')
    near = ps.pose3d - ps.pose3d[:, :1] + torch.tensor([0., 0., 300.])
    PoseSet(near, ps.pose2d, ps.camera, 'S1', 'w', 0).save(tmp_path / 'near.npz')
    _refused(D.read_npz, 'near.npz', 'depth', tmp_path / 'near.npz')

def test_2d_pixels_vs_normalised_refused(tmp_path):
    "Normalised 2D stored as pixels (PoseSet npz) and pixels stored as normalised (3DHP test file): 'image_range'."
    ps = _ps(8)
    PoseSet(ps.pose3d, ps.inputs2d(), ps.camera, 'S1', 'w', 0).save(tmp_path / 'norm.npz')
    _refused(D.read_npz, 'norm.npz', 'image_range', tmp_path / 'norm.npz')
    b = _body(6)[:, H36M17.index(list(H36M16.joint_names))]
    p3 = ((b - b[:, :1]) / 1000).numpy()
    p2 = np.random.default_rng(0).uniform(-0.5, 0.5, (6, 16, 2)).astype(np.float32)
    np.savez(tmp_path / 'test_3dpw.npz', pose3d=p3, pose2d=(p2 + 1) * 960)
    _refused(D.read_3dpw_test, 'test_3dpw.npz', 'image_range', tmp_path / 'test_3dpw.npz')
    np.savez(tmp_path / 'ok.npz', pose3d=p3, pose2d=p2)
    assert len(D.read_3dpw_test(tmp_path / 'ok.npz')) == 6

@pytest.mark.parametrize('fps', [0., -30., float('nan'), float('inf')])
def test_bad_fps_refused(tmp_path, fps):
    "Zero, negative, NaN or infinite frame rates are refused, naming the file (readers) or the set (PoseSet)."
    with pytest.raises(ValueError, match=r"h\.npz: fps: frame rate must be a finite number > 0"):
        D.load_hdm05(_hdm05_file(tmp_path / 'h.npz', _walk(10), fps=fps))
    ps = _ps(4)
    with pytest.raises(ValueError, match="PoseSet 'toy' fps: frame rate"): PoseSet(**{**_args(ps), 'fps': fps})
    d = dict(np.load(ps.save(tmp_path / 'p.npz'))); d['fps'] = np.float64(fps); np.savez(tmp_path / 'p.npz', **d)
    with pytest.raises(ValueError, match=r"p\.npz: .*fps: frame rate"): D.read_npz(tmp_path / 'p.npz')

def test_actor_mismatch_refused(hdm05_raw):
    "The ASF of one HDM05 actor with the AMC of another is refused by 'actor'."
    amc = hdm05_raw / 'HDM_mm_squat1Reps_037_120.amc'
    msg = _refused(D.read_asf_amc, 'HDM_mm_squat1Reps_037_120.amc', 'actor', hdm05_raw / 'HDM_bd.asf', amc)
    assert "'HDM_mm'" in msg and "'HDM_bd'" in msg
    assert len(D.read_asf_amc(hdm05_raw / 'HDM_mm.asf', amc, frames=slice(0, 10))) == 40

def test_skip_checks_override(tmp_path):
    "skip_checks: names from CHECKS or True; unknown names are refused so a typo cannot keep a check on."
    X = _walk(20)[:, H36M17.flip_perm] / 1000
    _hdm05_file(tmp_path / 'odd.npz', X)
    with pytest.raises(ValueError, match="check 'units'"): D.load_hdm05(tmp_path / 'odd.npz', skip_checks=('left_right',))
    with pytest.raises(ValueError, match="check 'left_right'"): D.load_hdm05(tmp_path / 'odd.npz', skip_checks=('units',))
    assert len(D.load_hdm05(tmp_path / 'odd.npz', skip_checks=('units', 'left_right', 'image_range'))) == 80
    assert len(D.load_hdm05(tmp_path / 'odd.npz', skip_checks=True)) == 80
    with pytest.raises(ValueError, match=r"unknown check\(s\) \['unit'\]"): D.load_hdm05(tmp_path / 'odd.npz', skip_checks=('unit',))
    assert set(D.CHECKS) == {'units', 'bone_lengths', 'left_right', 'up_axis', 'depth', 'image_range', 'actor'}

def _args(ps):
    return dict(pose3d=ps.pose3d, pose2d=ps.pose2d, camera=ps.camera, subject=ps.subject, action=ps.action,
                sequence=ps.sequence, fps=ps.fps, skeleton=ps.skeleton, name=ps.name)

def test_unclear_errors_name_key_and_shape(tmp_path):
    "Strings, objects, ragged lists, 0 frames, bad image sizes and broadcast mistakes give errors naming key and shape."
    ps = _ps(4); a = _args(ps)
    for key, bad, match in [('pose3d', 'abc', "PoseSet 'toy' pose3d: expected an array of numbers, got the string"),
                            ('pose3d', np.array([None] * 4, dtype=object), "pose3d: expected an array of numbers, got Python objects"),
                            ('pose2d', [[1, 2], [3]], "pose2d: not a rectangular array"),
                            ('camera', ps.camera[0], r"mismatched lengths or shapes.*camera \(6,\)"),
                            ('sequence', 'abc', "PoseSet 'toy' sequence: cannot be read as int64"),
                            ('subject', np.array([{}] * 4, dtype=object), "subject: expected strings or numbers")]:
        with pytest.raises(ValueError, match=match): PoseSet(**{**a, key: bad})
    # 0 frames in a file
    d = {k: v[:0] if k in ('pose3d', 'pose2d', 'camera', 'subject', 'action', 'sequence') else v
         for k, v in np.load(ps.save(tmp_path / 'p.npz')).items()}
    np.savez(tmp_path / 'empty.npz', **d)
    with pytest.raises(ValueError, match=r"empty\.npz: pose3d: no frames"): D.read_npz(tmp_path / 'empty.npz')
    p3 = np.zeros((0, 16, 3), np.float32)
    np.savez(tmp_path / 'test_3dhp.npz', pose3d=p3, pose2d=p3[..., :2])
    with pytest.raises(ValueError, match=r"test_3dhp\.npz: key 'pose3d': no frames"): D.read_3dhp_test(tmp_path / 'test_3dhp.npz')
    # strings as poses and bad image sizes in a 3DHP file
    b = _body(5)[:, H36M17.index(list(H36M16.joint_names))]
    p3 = ((b - b[:, :1]) / 1000).numpy(); p2 = np.zeros((5, 16, 2), np.float32) + np.linspace(-.2, .2, 16)[:, None]
    np.savez(tmp_path / 's.npz', pose3d=p3.astype(str), pose2d=p2)
    with pytest.raises(ValueError, match=r"s\.npz: key 'pose3d': expected an array of numbers, got strings"):
        D.read_3dhp_test(tmp_path / 's.npz')
    np.savez(tmp_path / 'i3.npz', pose3d=p3, pose2d=p2, image_size=np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"i3\.npz: image_size: expected \(width, height\) or \(5, 2\), got shape \(3,\)"):
        D.read_3dhp_test(tmp_path / 'i3.npz')
    np.savez(tmp_path / 'i0.npz', pose3d=p3, pose2d=p2, image_size=np.array([0, 0]))
    with pytest.raises(ValueError, match=r"i0\.npz: image_size: widths and heights must be finite and > 0"):
        D.read_3dhp_test(tmp_path / 'i0.npz')
    np.savez(tmp_path / 'ok.npz', pose3d=p3, pose2d=p2)
    with pytest.raises(ValueError, match=r"ok\.npz: image_size: expected \(width, height\)"): D.read_3dhp_test(tmp_path / 'ok.npz', image_size=(5,))
    # a string fps in a PoseSet file, an unknown skeleton name
    d = dict(np.load(tmp_path / 'p.npz')); d['fps'] = np.array(['fast']); np.savez(tmp_path / 'f.npz', **d)
    with pytest.raises(ValueError, match=r"f\.npz: .*fps: frame rate must be a finite number > 0, got"): D.read_npz(tmp_path / 'f.npz')
    d = dict(np.load(tmp_path / 'p.npz')); d['skeleton'] = np.array(['nope']); np.savez(tmp_path / 'k.npz', **d)
    with pytest.raises(ValueError, match=r"k\.npz: key 'skeleton'"): D.read_npz(tmp_path / 'k.npz')

def test_save_is_atomic(tmp_path, monkeypatch):
    "PoseSet.save writes a temp file and replaces: a failure leaves the old file intact and no temp file behind."
    ps = _ps(4); f = ps.save(tmp_path / 'p.npz')
    before = f.read_bytes()
    import posebench.data.files as files
    def boom(src, dst): raise OSError('disk full')
    monkeypatch.setattr(files.os, 'replace', boom)
    with pytest.raises(OSError): _ps(6).save(f)
    assert f.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ['p.npz']


# ---------------------------------------------------------------- issue 18 sweep
def test_one_sided_joint_swap_refused_by_symmetry(tmp_path):
    "Knee and foot swapped on one leg only can keep every bone under 800 mm: the left/right length ratio catches it."
    perm = list(range(17)); perm[2], perm[3] = 3, 2
    X = _walk(20)[:, perm]
    X = X.clone(); X[:, 2] = X[:, 1] + (X[:, 2] - X[:, 1]) * 0.8      # keep the 'thigh' (hip to foot) below BONE_MAX_MM
    msg = _refused(D.load_hdm05, 'one_leg.npz', 'bone_lengths', _hdm05_file(tmp_path / 'one_leg.npz', X))
    assert 'left/right bones' in msg and 'ratio' in msg


def test_damaged_npz_member_names_file_and_key(tmp_path):
    "A bit flip inside an npz member (bad CRC) is a ValueError naming the file and the key, not a BadZipFile."
    import zipfile
    p = tmp_path / 'p.npz'; _ps(8).save(p)
    np.savez(p, **dict(np.load(p)))                       # stored uncompressed: flip a byte of pose3d's data
    with zipfile.ZipFile(p) as z: info = z.getinfo('pose3d.npy')
    b = bytearray(p.read_bytes()); b[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF; p.write_bytes(bytes(b))
    with pytest.raises(ValueError, match=r"p\.npz: key 'pose3d' cannot be read, the file is damaged \(BadZipFile"): D.read_npz(p)


def test_from_world_camera_dict_checked():
    "A camera dict without R, or with arrays of different camera counts, is named with the shapes found."
    X = _walk(10)
    c = D.virtual_cameras(); c.pop('R')
    with pytest.raises(ValueError, match=r"cameras: missing key\(s\) \['R'\]"): D.from_world(X, 'S1', 'walk', cameras=c)
    c = D.virtual_cameras(); c['t'] = c['t'][:2]
    with pytest.raises(ValueError, match=r"got R \(4, 3, 3\), t \(2, 3\), intrinsics \(4, 6\)"): D.from_world(X, 'S1', 'walk', cameras=c)
