"Lifting your own 2D key points: readers (COCO, MMPose, OpenPose, arrays), checks, gap filling, layout mapping, writers, BVH."
import json, os
from pathlib import Path
import numpy as np
import pytest
import torch
from posebench.data import from_world, virtual_cameras
from posebench.geometry import normalize_screen, root_centre
from posebench.mocap import read_bvh_positions
from posebench.models import get_model
from posebench.skeleton import H36M17
from posebench import lift as L


# ---------------------------------------------------------------- fixtures
ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get('POSEBENCH_SHARED_DATA', ROOT.parent / 'shared' / 'data'))   # as in conftest.py

@pytest.fixture(scope='module')
def clip(request):
    "One HDM05 test clip (actor mm, throwBasketball) filmed by the camera that sees the face most; skips without the data."
    p = SHARED_DATA / 'hdm05' / 'hdm05_h36m17.npz'
    if not p.exists(): pytest.skip(f"real data not available: {p}")
    with np.load(p, allow_pickle=False) as d:
        names = d['clip_names'].tolist()
        k = names.index('HDM_mm_throwBasketball_011_120.amc')
        pos = d['positions'][d['clip'] == k]
    ps = from_world(pos, 'mm', 'throw', 0, 30., virtual_cameras(), up='z')
    best = max(np.unique(ps.sequence), key=lambda s: int((L.make_detector_keypoints(ps[ps.sequence == s]).score[:, 0] > 0.6).sum()))
    return ps[ps.sequence == best]


@pytest.fixture(scope='module')
def kp(clip):
    return L.make_detector_keypoints(clip, seed=3)


@pytest.fixture(scope='module')
def net():
    torch.manual_seed(0)
    return get_model('simple_baseline', width=32, blocks=1).eval()


def _err(f, *words):
    with pytest.raises(ValueError) as e: f()
    msg = str(e.value)
    for w in words: assert w in msg, f"{w!r} not in: {msg}"
    return msg


# ---------------------------------------------------------------- layout mapping, gap filling (no data needed)
def test_coco17_to_h36m17_hand_computed():
    i = {n: k for k, n in enumerate(L.COCO17)}
    xy, sc = torch.zeros(17, 2), torch.full((17,), 0.9)
    pts = dict(left_hip=(140, 200), right_hip=(100, 200), left_shoulder=(150, 100), right_shoulder=(90, 100),
               left_ear=(132, 60), right_ear=(112, 64), nose=(150, 75), left_knee=(139, 260), right_ankle=(101, 320),
               left_wrist=(170, 190), right_elbow=(80, 150))
    for n, v in pts.items(): xy[i[n]] = torch.tensor(v, dtype=torch.float32)
    sc[i['right_hip']] = 0.5
    h, s = L.coco17_to_h36m17(xy, sc)
    face = torch.tensor([122., 62.])                       # mean of the ears (both confident): the nose is not used
    want = {'Hip': (120, 200), 'Thorax': (120, 100), 'Spine': (120, 150), 'Nose': (120 + 0.75 * 2, 100 - 0.75 * 38),
            'Head': (120 + 1.3 * 2, 100 - 1.3 * 38), 'RHip': (100, 200), 'LKnee': (139, 260), 'RFoot': (101, 320),
            'LWrist': (170, 190), 'RElbow': (80, 150)}
    for n, v in want.items():
        assert torch.allclose(h[H36M17.index(n)], torch.tensor(v, dtype=torch.float32), atol=1e-4), (n, h[H36M17.index(n)])
    assert torch.allclose(L.coco17_to_h36m17(xy, sc)[0][9], torch.tensor([120., 100.]) + 0.75 * (face - torch.tensor([120., 100.])))
    assert s[0] == 0.5 and s[7] == 0.5 and s[1] == 0.5 and s[4] == pytest.approx(0.9)   # pelvis/spine take the weakest hip
    # BODY_25 -> COCO-17 -> H36M-17 gives the same as COCO-17 directly
    b_xy, b_sc = L.coco17_to_body25(xy, sc)
    assert torch.equal(L.body25_to_coco17(b_xy, b_sc)[0], xy)
    assert torch.allclose(b_xy[1], torch.tensor([120., 100.])) and torch.allclose(b_xy[8], torch.tensor([120., 200.]))


def test_fill_gaps_hand_made():
    F = 10
    true = torch.stack([torch.arange(F) * 3., torch.arange(F) * -2.], -1)[:, None].repeat(1, 2, 1)  # (F, 2, 2) linear motion
    valid = torch.ones(F, 2, dtype=torch.bool)
    valid[3:5, 0] = False                       # interior gap of 2 -> filled exactly
    valid[6:10, 1] = False                      # gap to the end -> held, guessed
    valid[0:1, 1] = False                       # gap at the start -> held, guessed
    xy = torch.where(valid[..., None], true, torch.full_like(true, 1e4))
    out, filled, guessed = L.fill_gaps(xy, valid, max_gap=2)
    assert torch.allclose(out[:, 0], true[:, 0])
    assert out[0, 1].tolist() == true[1, 1].tolist() and (out[6:, 1] == true[5, 1]).all()
    assert filled.nonzero().tolist() == [[3, 0], [4, 0]]
    assert guessed[:, 1].nonzero().ravel().tolist() == [0, 6, 7, 8, 9] and not guessed[:, 0].any()
    _, filled1, guessed1 = L.fill_gaps(xy, valid, max_gap=1)   # the same interior gap is now too long
    assert not filled1.any() and guessed1[3:5, 0].all()
    rep = L.gap_report(filled, np.arange(50, 60), ['a', 'b'])
    assert rep == [{'joint': 'a', 'first_frame': 53, 'last_frame': 54, 'frames': 2}]


def test_estimate_root_recovers_translation():
    from posebench.geometry import project
    g = torch.Generator().manual_seed(0)
    X = root_centre(torch.randn(6, 17, 3, generator=g) * 300)
    t = torch.tensor([[-150., 80., 3500.]]).repeat(6, 1) + torch.randn(6, 3, generator=g) * 50
    uv = project(X + t[:, None], torch.tensor([1000., 1010., 480., 500.]))
    assert torch.allclose(L.estimate_root(X, uv, torch.ones(6, 17), (1000., 1010.), (480., 500.)), t, atol=0.5)


# ---------------------------------------------------------------- formats round-trip through the lift path
def test_three_formats_round_trip_through_lift(tmp_path, kp, net):
    kp = kp.replace(xy=kp.xy[:50], score=kp.score[:50], frame=kp.frame[:50] + 7)    # short, ids not starting at 0
    g = torch.Generator().manual_seed(1)
    bystander = kp.replace(xy=kp.xy + 300 + torch.randn(kp.xy.shape, generator=g), score=kp.score * 0.5)
    paths = {'coco': tmp_path / 'dets.json', 'mmpose': tmp_path / 'mmpose.json', 'openpose': tmp_path / 'openpose'}
    L.write_coco_json(kp, paths['coco'], others=[bystander])
    L.write_mmpose_json(kp, paths['mmpose'], others=[bystander])
    L.write_openpose_dir(kp, paths['openpose'], others=[bystander])
    ref = L.lift_keypoints(kp, net)                           # in memory
    assert ref.pose3d.shape == (len(kp), 17, 3) and (ref.pose3d[:, 0] == 0).all()
    keep = kp.score.max(-1).values > 0.05
    for fmt, p in paths.items():
        assert L.detect_format(p) == fmt
        back = L.read_keypoints(p, image_size=kp.image_size)
        if fmt == 'openpose':
            assert back.layout == 'body25'
            back = back.replace(xy=L.body25_to_coco17(back.xy, back.score)[0], score=L.body25_to_coco17(back.xy, back.score)[1], layout='coco17')
        assert np.array_equal(back.frame, kp.frame)
        assert torch.allclose(back.xy[keep], kp.xy[keep], atol=1e-3)          # the main person, not the bystander
        res = L.lift_keypoints(p, net, image_size=kp.image_size)
        assert torch.allclose(res.pose3d, ref.pose3d, atol=0.05), fmt
        assert np.array_equal(res.filled, ref.filled) and np.array_equal(res.frame, kp.frame)
    # person=k picks the k-th instance of each frame (no track ids): the bystander here
    other = L.read_keypoints(paths['coco'], person=1, image_size=kp.image_size)
    assert torch.allclose(other.xy[keep], bystander.xy[keep], atol=1e-3)
    # the model input is the H36M-17 mapping of the filled key points, normalised by the image size
    x = normalize_screen(ref.keypoints.xy, torch.tensor(kp.image_size[0]), torch.tensor(kp.image_size[1]))
    assert torch.allclose(ref.pose3d, root_centre(net(x)) * 1000, atol=1e-3)


def test_array_formats_and_model_files(tmp_path, clip, kp, net):
    L.write_keypoints_npz(kp, tmp_path / 'k.npz')
    rows = torch.cat([kp.xy, kp.score[..., None]], -1).reshape(len(kp), -1).numpy()
    header = 'frame,' + ','.join(f'{n}_{c}' for n in L.COCO17 for c in 'xys')
    np.savetxt(tmp_path / 'k.csv', np.c_[kp.frame, rows], delimiter=',', header=header, comments='', fmt='%.4f')
    a = L.read_keypoints(tmp_path / 'k.npz')
    b = L.read_keypoints(tmp_path / 'k.csv', layout='coco17', image_size=kp.image_size)
    assert a.layout == 'coco17' and a.image_size == kp.image_size and torch.allclose(a.xy, kp.xy)
    assert torch.allclose(b.xy, kp.xy, atol=1e-3) and np.array_equal(b.frame, kp.frame)
    _err(lambda: L.read_keypoints(tmp_path / 'k.csv'), 'k.csv', 'layout', "layout='coco17'")
    # a model file and a training run's folder give the module's result
    from posebench.recipe import save_model
    from posebench.supervised import train_supervised
    from posebench.train import TrainConfig
    save_model(tmp_path / 'model.pt', 'simple_baseline', net, {'width': 32, 'blocks': 1})
    ref = L.lift_keypoints(a, net)
    assert torch.allclose(L.lift_keypoints(tmp_path / 'k.npz', tmp_path / 'model.pt').pose3d, ref.pose3d, atol=1e-4)
    run = train_supervised(clip, None, 'simple_baseline', TrainConfig(epochs=1, batch_size=64, progress=False),
                           model_kwargs={'width': 32, 'blocks': 1}, out_dir=tmp_path / 'run')
    ref_run = L.lift_keypoints(a, run.model)
    assert torch.allclose(L.lift_keypoints(tmp_path / 'k.npz', tmp_path / 'run').pose3d, ref_run.pose3d, atol=1e-4)
    (tmp_path / 'wrong.pt').write_bytes((tmp_path / 'model.pt').read_bytes()[:-10])      # truncated: refused, named
    with pytest.raises(ValueError, match='wrong.pt'): L.lift_keypoints(tmp_path / 'k.npz', tmp_path / 'wrong.pt')


# ---------------------------------------------------------------- checks: clear errors
def test_wrong_layout_errors(tmp_path, clip, kp, net):
    assert L.check_anatomy(kp)['left_shoulder+right_shoulder above left_hip+right_hip'] > 0.9   # clean data passes
    # Human3.6M order declared as COCO-17
    np.savez(tmp_path / 'h36m.npz', keypoints=clip.pose2d.numpy(), image_size=np.array(kp.image_size))
    _err(lambda: L.lift_keypoints(tmp_path / 'h36m.npz', net, layout='coco17'), 'h36m.npz', 'layout (up/down)', 'in only 0%', 'check=False')
    assert L.lift_keypoints(tmp_path / 'h36m.npz', net, layout='h36m17').pose3d.shape == (len(clip), 17, 3)   # declared right: fine
    # BODY_25 given as COCO-17: a COCO file with 25 triples, and BODY_25's first 17 points declared as COCO-17
    L.write_openpose_dir(kp, tmp_path / 'op')
    d25 = json.loads(next((tmp_path / 'op').glob('*.json')).read_text())['people'][0]['pose_keypoints_2d']
    (tmp_path / 'b25.json').write_text(json.dumps([{'image_id': 0, 'category_id': 1, 'keypoints': d25, 'score': 0.9}]))
    _err(lambda: L.read_keypoints(tmp_path / 'b25.json', format='coco'), 'b25.json', 'layout', '25 key points', 'BODY_25')
    b_xy, b_sc = L.coco17_to_body25(kp.xy, kp.score)
    _err(lambda: L.lift_keypoints(kp.replace(xy=b_xy[:, :17], score=b_sc[:, :17], source='first17.npz'), net),
         'first17.npz', 'layout (up/down)', 'left_hip/right_hip is above left_ankle/right_ankle')
    # left and right swapped (every pair), and only the legs swapped
    swap = [L.COCO17.index(n.replace('left', 'X').replace('right', 'left').replace('X', 'right')) for n in L.COCO17]
    msg = _err(lambda: L.lift_keypoints(kp.replace(xy=kp.xy[:, swap], score=kp.score[:, swap], source='swapped.json'), net),
               'swapped.json', 'layout (left/right)', 'faces the camera', 'swapped')
    legs = [swap[j] if j >= 11 else j for j in range(17)]
    _err(lambda: L.check_anatomy(kp.replace(xy=kp.xy[:, legs], score=kp.score[:, legs], source='legs.json')),
         'legs.json', 'layout (left/right)', 'shoulders and hips have opposite left/right order')
    assert L.lift_keypoints(kp.replace(xy=kp.xy[:, swap], score=kp.score[:, swap]), net, check=False) is not None   # the override



def test_updown_ignores_frames_where_the_body_lies(clip, kp, net):
    "A correctly ordered real clip of a person lying down passes; frames where the body lies flat are not judged."
    from posebench.data import load_benchmark
    p = SHARED_DATA / 'hdm05' / 'hdm05_h36m17.npz'
    if not p.exists(): pytest.skip(f"real data not available: {p}")
    _, tests = load_benchmark('hdm05', root=p.parent)
    test = tests['hdm05_mm_tr']
    ps = test[test.sequence == 325]              # the clip the issue-15 audit found refused: lieDownFloor, actor mm, camera 1
    assert ps.action[0] == 'lieDownFloor' and ps.subject[0] == 'mm' and len(ps) == 186
    lying = L.make_detector_keypoints(ps, noise_px=2.0, drop_rate=0.03, seed=325)
    m = L.lift_keypoints(lying, net).checks                                        # checks on: no error
    assert m['left_hip+right_hip above left_ankle+right_ankle'] == 1.0
    # synthetic: the throw clip turned by 100 degrees in the image (lying, head slightly lower than the feet)
    c = kp.xy.mean(1, keepdim=True)
    a = torch.deg2rad(torch.tensor(100.))
    R = torch.tensor([[torch.cos(a), -torch.sin(a)], [torch.sin(a), torch.cos(a)]])
    flat = kp.replace(xy=(kp.xy - c) @ R.T + c, source='lying.json')
    m = L.check_anatomy(flat)
    assert not any('above' in k for k in m)                                        # up/down not judged on a lying body
    assert 0.5 <= m['left/right hip-knee length'] <= 2                             # the other checks still run
    # the refusals stay: Human3.6M order given as COCO, BODY_25's first 17 points given as COCO
    _err(lambda: L.check_anatomy(kp.replace(xy=clip.pose2d, score=torch.ones(len(clip), 17), source='h36m.json')),
         'h36m.json', 'layout (up/down)', 'vertically apart', 'in only 0%')
    b_xy, b_sc = L.coco17_to_body25(kp.xy, kp.score)
    _err(lambda: L.check_anatomy(kp.replace(xy=b_xy[:, :17], score=b_sc[:, :17], source='first17.json')),
         'first17.json', 'layout (up/down)', 'left_hip/right_hip is above left_ankle/right_ankle in only')


def test_bone_length_consistency_across_frames(kp, net):
    "Joints that are not the same bones in every frame (order shuffled per frame, another person's legs) are refused."
    m = L.check_anatomy(kp)
    assert m['leg bone length change per frame'] < 0.09                            # a real clip: smooth bone lengths
    g = torch.Generator().manual_seed(0)
    F = len(kp)
    # legs of a smaller person standing beside, every other frame (up/down and left/right still hold)
    c = kp.xy.mean(1, keepdim=True)
    other = (kp.xy - c) * 0.5 + c + torch.tensor([200., 0.])
    mixed = kp.xy.clone(); mixed[::2, 11:] = other[::2, 11:]
    msg = _err(lambda: L.lift_keypoints(kp.replace(xy=mixed, source='mixed.json'), net),
               'mixed.json', 'layout (bone-length consistency)', 'from one frame to the next', 'check=False')
    assert int(msg.split('change by ')[1].split('%')[0]) > 25                     # the measured value is in the message
    # every frame's joints in a different random order: passes up/down and left/right by chance, not this check
    perm = torch.stack([torch.randperm(17, generator=g) for _ in range(F)])
    shuffled = kp.replace(xy=torch.gather(kp.xy, 1, perm[..., None].expand(F, 17, 2)), score=torch.gather(kp.score, 1, perm),
                          source='shuffled.json')
    _err(lambda: L.check_anatomy(shuffled), 'shuffled.json', 'bone-length consistency')
    assert L.check_anatomy(kp.replace(xy=mixed), max_jump=2.0)['leg bone length change per frame'] > 0.25   # the threshold is an option
    assert L.lift_keypoints(kp.replace(xy=mixed), net, check=False) is not None
    assert 'person=<track id>' in msg                                              # the likely cure is named
    # only consecutive frame ids are compared: every 4th frame of a real clip is no jump between bones
    sub = kp.replace(xy=kp.xy[::4], score=kp.score[::4], frame=kp.frame[::4])
    assert 'leg bone length change per frame' not in L.check_anatomy(sub)          # no frame has its successor: not judged
    for bad in (0, -0.1, float('nan'), float('inf'), '0.25'):
        with pytest.raises(ValueError, match='max_jump: expected a finite fraction > 0'): L.lift_keypoints(kp, net, max_jump=bad)


def test_person_by_track_id(tmp_path, kp):
    "person=k picks the track id k: COCO/MMPose `track_id`, OpenPose `person_id`, whatever the order or the scores."
    kp = kp.replace(xy=kp.xy[:30], score=kp.score[:30], frame=kp.frame[:30])
    g = torch.Generator().manual_seed(2)
    other = kp.replace(xy=kp.xy + 250 + torch.randn(kp.xy.shape, generator=g), score=(kp.score * 1.05).clamp(max=1))   # scores higher
    L.write_coco_json(kp, tmp_path / 'c.json', others=[other])
    d = json.loads((tmp_path / 'c.json').read_text())
    n_main = int((kp.score > 0.05).any(-1).sum())                            # the writer writes the main person's rows first
    for i, r in enumerate(d): r['track_id'] = 3 if i < n_main else 7
    d = d[::-1]                                                              # file order must not matter
    (tmp_path / 'c.json').write_text(json.dumps(d))
    keep = kp.score.max(-1).values > 0.05
    assert torch.allclose(L.read_keypoints(tmp_path / 'c.json').xy[keep], other.xy[keep], atol=1e-3)   # default: the best score
    assert torch.allclose(L.read_keypoints(tmp_path / 'c.json', person=3).xy[keep], kp.xy[keep], atol=1e-3)
    assert torch.allclose(L.read_keypoints(tmp_path / 'c.json', person=7).xy[keep], other.xy[keep], atol=1e-3)
    _err(lambda: L.read_keypoints(tmp_path / 'c.json', person=5), 'c.json', 'no instance with track/person id 5', '[3, 7]')
    # MMPose: track_id on the instances; the other person listed first
    L.write_mmpose_json(kp, tmp_path / 'm.json', others=[other])
    d = json.loads((tmp_path / 'm.json').read_text())
    for f in d['instance_info']:
        for k, inst in enumerate(f['instances']): inst['track_id'] = 3 if k == 0 else 7
        f['instances'] = f['instances'][::-1]
    (tmp_path / 'm.json').write_text(json.dumps(d))
    assert torch.allclose(L.read_keypoints(tmp_path / 'm.json', person=3).xy[keep], kp.xy[keep], atol=1e-3)
    assert torch.allclose(L.read_keypoints(tmp_path / 'm.json', person=7).xy[keep], other.xy[keep], atol=1e-3)
    # OpenPose: person_id [k] per person
    L.write_openpose_dir(kp, tmp_path / 'op', others=[other])
    for f in (tmp_path / 'op').glob('*.json'):
        d = json.loads(f.read_text())
        for k, person in enumerate(d['people']): person['person_id'] = [3 if k == 0 else 7]
        d['people'] = d['people'][::-1]
        f.write_text(json.dumps(d))
    b3 = L.read_keypoints(tmp_path / 'op', person=3)
    b7 = L.read_keypoints(tmp_path / 'op', person=7)
    assert b3.layout == 'body25'
    assert torch.allclose(L.body25_to_coco17(b3.xy, b3.score)[0][keep], kp.xy[keep], atol=1e-3)
    assert torch.allclose(L.body25_to_coco17(b7.xy, b7.score)[0][keep], other.xy[keep], atol=1e-3)


def test_normalisation_size_score_and_empty_errors(tmp_path, kp, net):
    w, h = kp.image_size
    # normalised coordinates where pixels are expected, and the reverse
    norm = kp.replace(xy=normalize_screen(kp.xy, torch.tensor(w), torch.tensor(h)), source='norm.json')
    _err(lambda: L.lift_keypoints(norm, net), 'norm.json', 'normalisation', 'max |coordinate|', 'not pixels', "units='normalised'")
    ok = L.lift_keypoints(norm, net, units='normalised')                     # declared: converted back, same result
    assert torch.allclose(ok.pose3d, L.lift_keypoints(kp, net).pose3d, atol=0.05)
    _err(lambda: L.lift_keypoints(kp.replace(source='px.json'), net, units='normalised'), 'px.json', 'normalisation', 'look like pixels')
    rel = kp.replace(xy=kp.xy / torch.tensor([w, h]), source='rel.json')
    _err(lambda: L.lift_keypoints(rel, net), 'rel.json', 'normalisation')
    # missing and wrong image size
    L.write_coco_json(kp, tmp_path / 'dets.json')
    _err(lambda: L.lift_keypoints(tmp_path / 'dets.json', net), 'dets.json', 'image size', 'missing', 'image_size=(width, height)')
    _err(lambda: L.lift_keypoints(tmp_path / 'dets.json', net, image_size=(w / 4, h / 4)), 'dets.json', 'image size', 'outside')
    # all joints below the threshold, and one joint never confident
    low = kp.replace(score=kp.score * 0.2, source='low.json')
    _err(lambda: L.lift_keypoints(low, net), 'low.json', 'score threshold', 'all joints are below min_score=0.3', 'highest score')
    sc = kp.score.clone(); sc[:, L.COCO17.index('left_wrist')] = 0.1
    _err(lambda: L.lift_keypoints(kp.replace(score=sc, source='wrist.json'), net), 'wrist.json', "['left_wrist']", 'every frame')
    # empty files of every kind
    (tmp_path / 'empty.json').write_text('')
    _err(lambda: L.read_keypoints(tmp_path / 'empty.json'), 'empty.json', 'empty file')
    (tmp_path / 'nodets.json').write_text('[]')
    _err(lambda: L.read_keypoints(tmp_path / 'nodets.json'), 'nodets.json', 'empty file')
    (tmp_path / 'mm.json').write_text(json.dumps({'meta_info': {}, 'instance_info': [{'frame_id': 0, 'instances': []}]}))
    _err(lambda: L.read_keypoints(tmp_path / 'mm.json'), 'mm.json', 'empty file', '1 frames')
    (tmp_path / 'op').mkdir(); (tmp_path / 'op' / 'v_000000000000_keypoints.json').write_text(json.dumps({'version': 1.3, 'people': []}))
    _err(lambda: L.read_keypoints(tmp_path / 'op'), 'op', 'empty file', 'no people')
    np.savez(tmp_path / 'zero.npz', keypoints=np.zeros((0, 17, 3)))
    _err(lambda: L.read_keypoints(tmp_path / 'zero.npz', layout='coco17'), 'zero.npz', 'empty file', '0 frames')


# ---------------------------------------------------------------- writers
def test_writers_and_bvh_round_trip(tmp_path, clip, kp, net):
    res = L.lift_keypoints(kp, net, focal=clip.camera[0, :2], centre=clip.camera[0, 2:4])
    assert res.root is not None and res.root.shape == (len(kp), 3)
    # with the true root-relative 3D and clean 2D, the estimated root is the true one
    root = L.estimate_root(root_centre(clip.pose3d), clip.pose2d, torch.ones(len(clip), 17), clip.camera[0, :2], clip.camera[0, 2:4])
    assert torch.allclose(root, clip.pose3d[:, 0], atol=2.0)
    L.save_npz(res, tmp_path / 'out.npz'); L.save_json(res, tmp_path / 'out.json')
    L.save_html(res, tmp_path / 'out.html', include_plotlyjs='cdn', max_frames=20)
    with np.load(tmp_path / 'out.npz', allow_pickle=False) as z:
        assert np.allclose(z['pose3d_mm'], res.pose3d.numpy()) and np.allclose(z['pose3d_abs_mm'], res.pose3d_abs.numpy())
        assert z['joint_names'].tolist() == list(H36M17.joint_names) and np.array_equal(z['filled'], res.filled)
    d = json.loads((tmp_path / 'out.json').read_text())
    assert d['units'] == 'mm' and d['frames'] == res.frame.tolist() and len(d['pose3d_mm']) == len(res)
    assert np.allclose(d['pose3d_mm'], res.pose3d.numpy(), atol=0.06) and d['filled'] == res.report()['filled']
    html = (tmp_path / 'out.html').read_text()
    assert 'cdn.plot.ly' in html and html.count('"name":"') > 20
    assert not list(tmp_path.glob('.*.tmp'))                      # nothing left half-written
    # BVH: the lifted joints (with the median bone lengths) come back from posebench's own BVH reader within 1 mm,
    # for the network's output and for real mocap
    for name, r in (('lifted', res), ('mocap', L.LiftResult(root_centre(clip.pose3d), res.keypoints, 'coco17', res.filled, res.guessed))):
        L.save_bvh(r, tmp_path / f'{name}.bvh', fps=30, units='cm')
        fixed, _, lengths = L.fixed_length_pose(r.pose3d)
        pos, names, parents, fps = read_bvh_positions(tmp_path / f'{name}.bvh')
        got = torch.as_tensor(pos[:, [names.index(n) for n in H36M17.joint_names]], dtype=torch.float64) * 10  # cm -> mm
        got = got * torch.tensor([1., -1., -1.], dtype=torch.float64)                                       # Y-up -> camera
        if r.root is not None: got = got - r.root.double()[:, None]
        err = (got - fixed).norm(dim=-1).max()
        assert err < 1.0, (name, float(err))
        assert abs(fps - 30) < 1e-3 and len(pos) == len(r)
        lens = torch.as_tensor(pos[:, [names.index(n) for n in H36M17.joint_names]])
        assert torch.allclose((lens[:, 1:] - lens[:, H36M17.parents[1:]]).norm(dim=-1).std(0), torch.zeros(16, dtype=torch.float64), atol=1e-3)


# ---------------------------------------------------------------- the walkthrough notebook, headless, tiny
def test_walkthrough_notebook_tiny(tmp_path, clip, monkeypatch):
    pm = pytest.importorskip('papermill')
    monkeypatch.setenv('OMP_NUM_THREADS', '1')   # the kernel is another process: 2 threads on a busy 2-core machine ran 18x slower per step
    nb = ROOT / 'nbs' / 'tutorials' / 'lift_your_own.ipynb'
    out = tmp_path / 'run'
    pm.execute_notebook(str(nb), str(tmp_path / 'executed.ipynb'), kernel_name='python3', language='python',
                        progress_bar=False, cwd=str(tmp_path), parameters=dict(
                            data_root=str(SHARED_DATA / 'hdm05'), epochs=1, batch_size=512, width=16, blocks=1,
                            train_fraction=0.02, n_sequences=2, out_dir=str(out), plotlyjs='cdn'))
    m = json.loads((out / 'lift_metrics.json').read_text())
    assert m['videos'] == 2 and m['frames'] > 0 and m['bvh_round_trip_max_mm'] < 1.0
    for k in ('mpjpe_clean_h36m_2d', 'mpjpe_coco_mapping_only', 'mpjpe_coco_detector_like'): assert 0 < m[k] < 2000
    with np.load(out / 'lifted.npz', allow_pickle=False) as z: shape = z['pose3d_mm'].shape
    assert shape[1:] == (17, 3) and len(list((out / 'keypoints' / 'openpose').glob('*_keypoints.json'))) == shape[0]
    assert (out / 'lifted_vs_truth.png').stat().st_size > 5000 and 'HIERARCHY' in (out / 'lifted.bvh').read_text()[:20]


def test_lift_command(tmp_path, kp, clip, capsys):
    "`posebench lift` end to end on a COCO file with a model file; a wrong layout ends in one line, exit code 2."
    from posebench.cli import main
    from posebench.recipe import save_model
    torch.manual_seed(0)
    m = get_model('simple_baseline', width=32, blocks=1).eval()
    save_model(tmp_path / 'm.pt', 'simple_baseline', m, {'width': 32, 'blocks': 1})
    L.write_coco_json(kp, tmp_path / 'det.json')
    assert main(['lift', str(tmp_path / 'det.json'), '--model', str(tmp_path / 'm.pt'), '--out', str(tmp_path / 'o'),
                 '--image-size', *(str(int(v)) for v in kp.image_size), '--no-html']) == 0
    with np.load(tmp_path / 'o' / 'det.npz', allow_pickle=False) as z: assert z['pose3d_mm'].shape == (len(kp), 17, 3)
    assert 'HIERARCHY' in (tmp_path / 'o' / 'det.bvh').read_text()[:20]
    L.write_keypoints_npz(kp, tmp_path / 'arr.npz')                     # --format npz (as the help offers) is the array format
    assert main(['lift', str(tmp_path / 'arr.npz'), '--format', 'npz', '--model', str(tmp_path / 'm.pt'),
                 '--out', str(tmp_path / 'o3'), '--no-html', '--no-bvh']) == 0
    with np.load(tmp_path / 'o3' / 'arr.npz', allow_pickle=False) as z: assert z['pose3d_mm'].shape == (len(kp), 17, 3)
    np.savez(tmp_path / 'h36m.npz', keypoints=clip.pose2d.numpy(), image_size=np.array(kp.image_size))
    capsys.readouterr()
    assert main(['lift', str(tmp_path / 'h36m.npz'), '--layout', 'coco17', '--model', str(tmp_path / 'm.pt'),
                 '--out', str(tmp_path / 'o2')]) == 2
    err = capsys.readouterr().err
    assert 'h36m.npz' in err and len(err.strip().splitlines()) == 1


def test_viewer_opens_a_lifted_sequence(kp, net):
    "The skeleton viewer plays a lifted video: the 2D key points the model saw next to its 3D joints, frame by frame."
    from posebench.viz import SkeletonViewer
    res = L.lift_keypoints(kp, net)
    ps = L.lifted_poseset(res, fps=30.)
    assert len(ps) == len(res) and torch.allclose(ps.targets3d(), res.pose3d, atol=1e-3)
    assert torch.allclose(ps.pose2d, res.keypoints.xy)
    v = SkeletonViewer(ps)
    assert len(v.indices) == len(ps)                                     # one clip: the whole video on the slider
    before3, before2 = repr(v.fig3d.data), repr(v.fig2d.data)
    v.slider.value = min(5, v.slider.max)
    assert repr(v.fig3d.data) != before3 and repr(v.fig2d.data) != before2   # both panels follow the frame


# ---------------------------------------------------------------- issue 18 sweep: malformed values in key-point files
def _dets(kp, n=3):
    return [{'image_id': f, 'category_id': 1, 'score': 0.9,
             'keypoints': [v for (x, y), s in zip(kp.xy[f].tolist(), kp.score[f].tolist()) for v in (x, y, s)]} for f in range(n)]


def test_malformed_values_name_file_key_and_value(tmp_path, kp):
    "Nulls, NaN, strings, dicts, ragged rows, bad frame ids or score counts: errors naming the file, key and value."
    def coco(name, edit):
        d = _dets(kp); edit(d); p = tmp_path / name; p.write_text(json.dumps(d)); return p
    def first(d, v): d[0]['keypoints'][0] = v
    _err(lambda: L.read_keypoints(coco('null.json', lambda d: first(d, None))), 'null.json', "'keypoints'", 'null/NaN/inf')
    _err(lambda: L.read_keypoints(coco('nan.json', lambda d: first(d, float('nan')))), 'nan.json', "'keypoints'", 'null/NaN/inf')
    _err(lambda: L.read_keypoints(coco('str.json', lambda d: first(d, 'abc'))), 'str.json', "'keypoints'", "'abc'")
    _err(lambda: L.read_keypoints(coco('dict.json', lambda d: d[0].update(keypoints={'x': 1}))), 'dict.json', 'holds a dict')
    def mm(name, inst):
        (tmp_path / name).write_text(json.dumps({'instance_info': inst})); return tmp_path / name
    inst = [{'frame_id': 'abc', 'instances': [{'keypoints': kp.xy[0].tolist(), 'keypoint_scores': [0.9] * 17}]}]
    _err(lambda: L.read_keypoints(mm('fid.json', inst)), 'fid.json', "'frame_id'", "'abc'")
    inst = [{'frame_id': 0, 'instances': [{'keypoints': kp.xy[0].tolist(), 'keypoint_scores': [0.9] * 16}]}]
    _err(lambda: L.read_keypoints(mm('sc.json', inst)), 'sc.json', "'keypoint_scores'", '16 scores', '17 key points')
    (tmp_path / 'op').mkdir(); (tmp_path / 'op' / 'v_0.json').write_text(json.dumps({'people': [[1, 2]]}))
    _err(lambda: L.read_keypoints(tmp_path / 'op'), 'v_0.json', "'people'", '[[1, 2]]')
    row = ','.join(['1.0'] * 51)
    (tmp_path / 'rag.csv').write_text(row + '\n' + ','.join(['1.0'] * 48) + '\n')
    _err(lambda: L.read_keypoints(tmp_path / 'rag.csv', layout='coco17'), 'rag.csv', 'line 2', '48 columns')
    (tmp_path / 'txt.csv').write_text(row + '\n' + row[:-3] + 'abc\n')
    _err(lambda: L.read_keypoints(tmp_path / 'txt.csv', layout='coco17'), 'txt.csv', 'line 2', "'abc'")
    np.savez(tmp_path / 'obj.npz', keypoints=np.array([None, 1], dtype=object))
    _err(lambda: L.read_keypoints(tmp_path / 'obj.npz', layout='coco17'), 'obj.npz', "'keypoints'", 'pickled')
    np.savez(tmp_path / 'sc.npz', keypoints=np.ones((3, 17, 2)), scores=np.ones((3, 16)))
    _err(lambda: L.read_keypoints(tmp_path / 'sc.npz', layout='coco17'), 'sc.npz', "'scores'", '(3, 16)')
    (tmp_path / 'cut.npz').write_bytes(b'PK\x03\x04 not really')
    _err(lambda: L.read_keypoints(tmp_path / 'cut.npz', layout='coco17'), 'cut.npz', 'not a readable npz file')


def test_lift_options_are_checked(tmp_path, kp, net):
    "A bad image size, a score threshold outside [0, 1], negative gaps, a zero batch, a bad focal or fps: named errors."
    for kw, msg in [({'image_size': (640,)}, 'image_size must be (width, height)'), ({'image_size': (float('inf'),) * 2}, 'got (inf, inf)'),
                    ({'min_score': -1.}, 'min_score: expected a confidence in [0, 1], got -1.0'),
                    ({'max_gap': -1}, 'max_gap: expected a number of frames >= 0, got -1'),
                    ({'batch_size': 0}, 'batch_size: expected an int >= 1, got 0'),
                    ({'focal': -1000.}, 'focal: expected a focal length in pixels > 0'), ({'focal': float('nan')}, 'got nan')]:
        _err(lambda: L.lift_keypoints(kp, net, **kw), msg)
    res = L.lift_keypoints(kp, net)
    for fps in (0., -30.):
        _err(lambda: L.save_bvh(res, tmp_path / 'x.bvh', fps=fps), 'fps: frame rate must be a finite number > 0', str(fps))
    assert not (tmp_path / 'x.bvh').exists()


def test_saved_lift_reopens_in_the_viewer(tmp_path, kp, net):
    "The npz that save_lift writes reads back into the same LiftResult (root included) and opens in the skeleton viewer."
    from posebench.viz import SkeletonViewer
    res = L.lift_keypoints(kp, net, focal=1000.)
    paths = L.save_lift(res, tmp_path / 'out', 'clip', html=False, bvh=False)
    back = L.read_lift(paths['npz'])
    assert torch.equal(back.pose3d, res.pose3d) and torch.equal(back.keypoints.xy, res.keypoints.xy)
    assert torch.equal(back.keypoints.score, res.keypoints.score) and back.keypoints.image_size == res.keypoints.image_size
    assert torch.allclose(back.root, res.root, atol=1e-3) and torch.allclose(back.pose3d_abs, res.pose3d_abs, atol=1e-3)
    assert np.array_equal(back.frame, res.frame) and np.array_equal(back.filled, res.filled) and np.array_equal(back.guessed, res.guessed)
    assert back.source_layout == 'coco17' and back.report()['filled'] == res.report()['filled']
    ps = L.lifted_poseset(paths['npz'], fps=30.)                          # a path: read, then the same PoseSet
    ref = L.lifted_poseset(res, fps=30.)
    assert torch.allclose(ps.pose3d, ref.pose3d, atol=1e-3) and torch.equal(ps.pose2d, ref.pose2d)
    assert len(SkeletonViewer(ps).indices) == len(res)
    np.savez(tmp_path / 'other.npz', keypoints=np.ones((3, 17, 3)))
    _err(lambda: L.read_lift(tmp_path / 'other.npz'), 'other.npz', "'pose3d_mm'", 'not written by save_lift')
