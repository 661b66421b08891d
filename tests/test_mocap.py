"Tests of posebench.mocap: hand-made BVH and ASF/AMC files, bad input, and the real CMU / HDM05 files (skipped when absent)."
import math
import numpy as np
import pytest
from posebench.mocap import (BVH, ASF, AMC, parse_bvh, bvh_world_positions, read_asf, read_amc, asf_amc_world_positions,
                             bvh_to_h36m17, asf_amc_to_h36m17, read_bvh_positions, y_up_to_z_up, euler_chain, ASF_UNIT_MM, SOURCE_UP)
from posebench.geometry import axis_rotation
from posebench.skeleton import H36M17
from posebench.data import read_bvh

# ---------------------------------------------------------------- hand-made BVH
BVH_TEXT = """HIERARCHY
ROOT root
{
  OFFSET 1 0 0
  CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation
  JOINT upper
  {
    OFFSET 0 3 0
    CHANNELS 3 Xrotation Yrotation Zrotation
    JOINT lower
    {
      OFFSET 0 0 4
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 2 0 0
      }
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.01
0 0 0 0 0 0 0 0 0 0 0 0
5 6 7 90 0 0 0 0 90 0 90 0
"""
# Ry(90): (x,y,z) -> (z,y,-x); Rz(90): (x,y,z) -> (-y,x,z); Rx(90): (x,y,z) -> (x,-z,y)
# frame 1: root at offset + translation = (6,6,7), global R0 = Ry(90)
#   upper = root + Ry(90)(0,3,0) = (6,9,7); upper local = Rz(90) (channels X Y Z = 0 0 90)
#   lower = upper + Ry(90) Rz(90) (0,0,4) = upper + Ry(90)(0,0,4) = upper + (4,0,0) = (10,9,7)
#   lower local: channels Z X Y = 0 90 0 -> Rx(90)
#   tip = lower + Ry(90) Rz(90) Rx(90) (2,0,0) = lower + Ry(90) Rz(90) (2,0,0) = lower + Ry(90)(0,2,0) = (10,11,7)
BVH_EXPECTED = np.array([[[1, 0, 0], [1, 3, 0], [1, 3, 4], [3, 3, 4]],
                         [[6, 6, 7], [6, 9, 7], [10, 9, 7], [10, 11, 7]]], float)


@pytest.fixture
def small_bvh(tmp_path):
    p = tmp_path / 'small.bvh'
    p.write_text(BVH_TEXT)
    return p


def test_bvh_parse(small_bvh):
    b = parse_bvh(small_bvh)
    assert isinstance(b, BVH)
    assert b.joint_names == ['root', 'upper', 'lower', 'lowerEnd']
    assert b.parents.tolist() == [-1, 0, 1, 2]
    assert b.is_end_site.tolist() == [False, False, False, True]
    assert np.allclose(b.offsets, [[1, 0, 0], [0, 3, 0], [0, 0, 4], [2, 0, 0]])
    assert b.channels[0] == ('Xposition', 'Yposition', 'Zposition', 'Yrotation', 'Xrotation', 'Zrotation')
    assert b.channels[2] == ('Zrotation', 'Xrotation', 'Yrotation') and b.channels[3] == ()
    assert b.channel_start.tolist() == [0, 6, 9, 12]
    assert b.motion.shape == (2, 12) and b.motion.dtype == np.float64
    assert b.frame_time == 0.01 and abs(b.fps - 100) < 1e-9 and b.num_frames == 2


def test_bvh_fk_hand_computed(small_bvh):
    b = parse_bvh(small_bvh)
    x = bvh_world_positions(b)
    assert x.shape == (2, 4, 3) and x.dtype == np.float64
    assert np.allclose(x, BVH_EXPECTED, atol=1e-5)
    # frame selection
    assert np.allclose(bvh_world_positions(b, frames=[1]), BVH_EXPECTED[1:], atol=1e-5)
    assert np.allclose(bvh_world_positions(b, frames=np.array([1, 0])), BVH_EXPECTED[::-1], atol=1e-5)


def test_bvh_channel_order_matters(small_bvh, tmp_path):
    "Swapping the listed order of two non-zero rotation channels must change the result (composition in channel order)."
    text = BVH_TEXT.replace('5 6 7 90 0 0 0 0 90 0 90 0', '0 0 0 0 0 0 90 0 90 0 0 0')
    p = tmp_path / 'a.bvh'; p.write_text(text)
    xa = bvh_world_positions(parse_bvh(p))[1]
    q = tmp_path / 'b.bvh'; q.write_text(text.replace('CHANNELS 3 Xrotation Yrotation Zrotation', 'CHANNELS 3 Zrotation Yrotation Xrotation')
                                          .replace('0 0 0 0 0 0 90 0 90 0 0 0', '0 0 0 0 0 0 90 0 90 0 0 0'))
    xb = bvh_world_positions(parse_bvh(q))[1]
    # upper local: a) Rx(90) Rz(90) (values X=90, Y=0, Z=90); b) Rz(90) Rx(90) (Z=90, Y=0, X=90)
    # lower offset (0,0,4): a) Rx(90)Rz(90)(0,0,4) = Rx(90)(0,0,4) = (0,-4,0); b) Rz(90)Rx(90)(0,0,4) = Rz(90)(0,-4,0) = (4,0,0)
    assert np.allclose(xa[2] - xa[1], [0, -4, 0], atol=1e-5)
    assert np.allclose(xb[2] - xb[1], [4, 0, 0], atol=1e-5)


def test_bvh_three_channel_root_and_joint_positions(tmp_path):
    "A root with only rotation channels, and a 6-channel non-root joint whose position channels add to OFFSET."
    text = """HIERARCHY
ROOT a
{
  OFFSET 0 1 0
  CHANNELS 3 Zrotation Xrotation Yrotation
  JOINT b
  {
    OFFSET 1 0 0
    CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 1 0
    }
  }
}
MOTION
Frames: 1
Frame Time: 0.1
90 0 0 0.5 0 0 0 0 0
"""
    p = tmp_path / 'c.bvh'; p.write_text(text)
    x = bvh_world_positions(parse_bvh(p))[0]
    # root (0,1,0); b = root + Rz(90)(1.5,0,0) = (0,2.5,0); tip = b + Rz(90)(0,1,0) = (-1,2.5,0)
    assert np.allclose(x, [[0, 1, 0], [0, 2.5, 0], [-1, 2.5, 0]], atol=1e-5)


def test_bvh_compact_layout_and_read_bvh_positions(small_bvh, tmp_path):
    "Braces on the declaration line, tabs and CRLF line ends parse the same; `read_bvh_positions` is the short form."
    compact = BVH_TEXT.replace('\n  {', ' {').replace('\n    {', ' {').replace('\n      {', ' {').replace('  ', '\t')
    p = _write(tmp_path, 'compact.bvh', compact.replace('\n', '\r\n'))
    assert 'JOINT upper {' in compact
    assert np.allclose(bvh_world_positions(parse_bvh(p)), BVH_EXPECTED, atol=1e-5)
    x, names, parents, fps = read_bvh_positions(small_bvh)
    assert np.allclose(x, BVH_EXPECTED, atol=1e-5) and names[-1] == 'lowerEnd' and parents.tolist() == [-1, 0, 1, 2] and fps == 100


def test_euler_chain_orders():
    a = np.array([[10., 20., 30.]])
    Rx, Ry, Rz = (axis_rotation(np.deg2rad(v), ax) for v, ax in zip([10., 20., 30.], 'xyz'))
    assert np.allclose(euler_chain(a, 'xyz', listed_is_applied_first=False)[0], Rx @ Ry @ Rz, atol=1e-6)
    assert np.allclose(euler_chain(a, 'xyz', listed_is_applied_first=True)[0], Rz @ Ry @ Rx, atol=1e-6)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def _raises(reader, path, *fragments):
    with pytest.raises(ValueError) as e:
        reader(path)
    msg = str(e.value)
    assert str(path) in msg, msg
    for f in fragments: assert f in msg, msg
    return msg


def test_bvh_truncated_frames(tmp_path):
    p = _write(tmp_path, 't.bvh', BVH_TEXT.replace('Frames: 2', 'Frames: 5'))
    _raises(parse_bvh, p, 'line 25', "'Frames:' says 5", 'has 2')


def test_bvh_short_row(tmp_path):
    p = _write(tmp_path, 't.bvh', BVH_TEXT.replace('0 0 90 0 90 0\n', '0 0 90 0 90\n'))
    _raises(parse_bvh, p, 'line 25', 'expected 12', 'got 11')


def test_bvh_more_rows_than_frames(tmp_path):
    p = _write(tmp_path, 't.bvh', BVH_TEXT.replace('Frames: 2', 'Frames: 1'))
    _raises(parse_bvh, p, 'line 25', "more motion rows")


def test_bvh_non_numeric_value(tmp_path):
    p = _write(tmp_path, 't.bvh', BVH_TEXT.replace('5 6 7', '5 x 7'))
    _raises(parse_bvh, p, 'line 25', 'numbers')


def test_bvh_unbalanced_braces(tmp_path):
    missing_close = BVH_TEXT.replace('    }\n  }\n}\nMOTION', '    }\n  }\nMOTION')
    _raises(parse_bvh, _write(tmp_path, 'a.bvh', missing_close), 'unbalanced braces', "'root'", 'line 20')
    extra_close = BVH_TEXT.replace('}\nMOTION', '}\n}\nMOTION')
    _raises(parse_bvh, _write(tmp_path, 'b.bvh', extra_close), 'unbalanced braces', 'line 21')


def test_bvh_bad_hierarchy_entries(tmp_path):
    _raises(parse_bvh, _write(tmp_path, 'a.bvh', BVH_TEXT.replace('OFFSET 0 3 0', 'OFFSET 0 3')), 'line 8', 'expected 3 OFFSET')
    _raises(parse_bvh, _write(tmp_path, 'b.bvh', BVH_TEXT.replace('CHANNELS 3 Xrotation Yrotation Zrotation',
                                                                  'CHANNELS 3 Xrotation Yrotation Wrotation')), 'line 9', 'Wrotation')
    _raises(parse_bvh, _write(tmp_path, 'c.bvh', BVH_TEXT.replace('CHANNELS 3 Xrotation Yrotation Zrotation',
                                                                  'CHANNELS 4 Xrotation Yrotation Zrotation')), 'line 9', 'says 4')
    _raises(parse_bvh, _write(tmp_path, 'd.bvh', BVH_TEXT.split('MOTION')[0]), 'MOTION')
    _raises(parse_bvh, _write(tmp_path, 'e.bvh', BVH_TEXT.replace('Frame Time: 0.01\n', '')), 'line 23', 'Frame Time')
    with pytest.raises(ValueError, match='not found'):
        parse_bvh(tmp_path / 'nope.bvh')


# ---------------------------------------------------------------- hand-made ASF / AMC
ASF_TEXT = """# tiny skeleton
:version 1.10
:name tiny
:units
  mass 1.0
  length 0.45
  angle deg
:documentation
  three bones
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name hipjoint
     direction 1 0 0
     length 1
     axis 0 0 0  XYZ
  end
  begin
     id 2
     name femur
     direction 0 -1 0
     length 2
     axis 0 0 90  XYZ
    dof rx ry rz
    limits (-160.0 20.0)
           (-70.0 70.0)
           (-60.0 70.0)
  end
  begin
     id 3
     name tibia
     direction 0 -2 0
     length 3
     axis 0 0 0  XYZ
    dof rx
    limits (-10.0 170.0)
  end
:hierarchy
  begin
    root hipjoint
    hipjoint femur
    femur tibia
  end
"""
AMC_TEXT = """#!OML:ASF tiny.asf
:FULLY-SPECIFIED
:DEGREES
1
root 0 0 0 0 0 0
femur 0 0 0
tibia 0
2
root 1 2 3 0 0 90
femur 30 0 0
tibia 90
"""
# frame 1: root Rz(90) at (1,2,3); hipjoint end = root + Rz(90)(1,0,0) = (1,3,3)
#   femur C = Rz(90), E = Rx(30): C E C^T = Ry(30) (30 deg about C x = y), a twist that keeps the -y bone along -y;
#         global Rz(90) Ry(30): femur end = (1,3,3) + Rz(90)(0,-2,0) = (3,3,3)   [without C: Rx(30) would swing it]
#   tibia: global = Rz(90) Ry(30) Rx(90); (0,-1,0) -> Rx(90) -> (0,0,-1) -> Ry(30) -> (-sin30, 0, -cos30)
#          -> Rz(90) -> (0, -sin30, -cos30); tibia end = femur end + 3 * that
S, C = math.sin(math.radians(30)), math.cos(math.radians(30))
ASF_EXPECTED = np.array([[[0, 0, 0], [1, 0, 0], [1, -2, 0], [1, -5, 0]],
                         [[1, 2, 3], [1, 3, 3], [3, 3, 3], [3, 3 - 3 * S, 3 - 3 * C]]])


@pytest.fixture
def small_asf(tmp_path):
    a = _write(tmp_path, 'tiny.asf', ASF_TEXT)
    m = _write(tmp_path, 'tiny.amc', AMC_TEXT)
    return a, m


def test_asf_parse(small_asf):
    asf = read_asf(small_asf[0])
    assert isinstance(asf, ASF) and asf.name == 'tiny'
    assert asf.units == {'mass': 1.0, 'length': 0.45, 'angle': 'deg'}
    assert abs(asf.unit_mm - ASF_UNIT_MM) < 1e-12 and abs(ASF_UNIT_MM - 56.4444) < 1e-3
    assert asf.root_order == ('TX', 'TY', 'TZ', 'RX', 'RY', 'RZ') and asf.root_axis == 'XYZ'
    assert asf.joint_names == ['root', 'hipjoint', 'femur', 'tibia'] and asf.parents.tolist() == [-1, 0, 1, 2]
    f = asf.bones['femur']
    assert f.id == 2 and f.length == 2 and np.allclose(f.direction, [0, -1, 0]) and np.allclose(f.axis, [0, 0, 90])
    assert f.axis_order == 'XYZ' and f.dof == ('rx', 'ry', 'rz') and f.limits == [(-160, 20), (-70, 70), (-60, 70)]
    assert np.allclose(asf.bones['tibia'].direction, [0, -1, 0])  # normalised
    assert asf.bones['hipjoint'].dof == () and asf.hierarchy['root'] == ['hipjoint']


def test_amc_parse(small_asf):
    asf = read_asf(small_asf[0])
    amc = read_amc(small_asf[1], asf)
    assert isinstance(amc, AMC) and amc.num_frames == 2 and amc.frame_numbers.tolist() == [1, 2]
    assert amc.root.shape == (2, 6) and amc.root[1].tolist() == [1, 2, 3, 0, 0, 90]
    assert amc.values['femur'].shape == (2, 3) and amc.values['tibia'][:, 0].tolist() == [0, 90]
    assert amc.values['hipjoint'].shape == (2, 0) and amc.degrees


def test_asf_amc_fk_hand_computed(small_asf):
    asf = read_asf(small_asf[0])
    amc = read_amc(small_asf[1], asf)
    x = asf_amc_world_positions(asf, amc)
    assert x.shape == (2, 4, 3) and x.dtype == np.float64
    assert np.allclose(x, ASF_EXPECTED, atol=1e-5)
    assert np.allclose(asf_amc_world_positions(asf, amc, frames=[1]), ASF_EXPECTED[1:], atol=1e-5)


def test_asf_amc_radians_and_root_order(tmp_path):
    "Root order RZ first and ':RADIANS' values give the same pose as the degree file."
    asf = read_asf(_write(tmp_path, 'r.asf', ASF_TEXT.replace('order TX TY TZ RX RY RZ', 'order RZ RY RX TX TY TZ')))
    amc_text = AMC_TEXT.replace(':DEGREES', ':RADIANS').replace('root 1 2 3 0 0 90', f'root {math.pi / 2} 0 0 1 2 3') \
                       .replace('femur 30 0 0', f'femur {math.pi / 6} 0 0').replace('tibia 90', f'tibia {math.pi / 2}')
    amc = read_amc(_write(tmp_path, 'r.amc', amc_text), asf)
    assert not amc.degrees
    assert np.allclose(asf_amc_world_positions(asf, amc), ASF_EXPECTED, atol=1e-5)


def test_amc_bad_input(small_asf, tmp_path):
    asf = read_asf(small_asf[0])
    rd = lambda p: read_amc(p, asf)
    _raises(rd, _write(tmp_path, 'a.amc', AMC_TEXT.replace('femur 30 0 0\n', '')), 'frame 2', "'femur'", 'line 8')
    _raises(rd, _write(tmp_path, 'b.amc', AMC_TEXT.replace('tibia 0\n', '')), 'frame 1', "'tibia'", 'line 4')
    _raises(rd, _write(tmp_path, 'c.amc', AMC_TEXT.replace('femur 30 0 0', 'femur 30 0')), 'line 10', 'expected 3', "'femur'")
    _raises(rd, _write(tmp_path, 'd.amc', AMC_TEXT.replace('root 1 2 3 0 0 90', 'root 1 2 3 0 0 90 1')), 'line 9', 'expected 6')
    _raises(rd, _write(tmp_path, 'e.amc', AMC_TEXT.replace('tibia 90', 'tail 90')), 'line 11', "unknown bone 'tail'")
    _raises(rd, _write(tmp_path, 'f.amc', AMC_TEXT.replace('tibia 90', 'tibia 90\ntibia 90')), 'line 12', 'twice')
    _raises(rd, _write(tmp_path, 'g.amc', ':DEGREES\n'), 'at least one frame')


def test_asf_bad_input(tmp_path):
    for sec in ('root', 'bonedata', 'hierarchy'):
        start = ASF_TEXT.index(f':{sec}')
        end = ASF_TEXT.find('\n:', start + 1)
        text = ASF_TEXT[:start] + (ASF_TEXT[end + 1:] if end >= 0 else '')
        _raises(read_asf, _write(tmp_path, f'{sec}.asf', text), f"missing section ':{sec}'", 'line')
    _raises(read_asf, _write(tmp_path, 'a.asf', ASF_TEXT.replace('femur tibia', 'femur shin')), "unknown bone 'shin'", 'line 47')
    _raises(read_asf, _write(tmp_path, 'b.asf', ASF_TEXT.replace('direction 0 -1 0', 'direction 0 -1')), 'line 26', 'expected 3 direction')
    _raises(read_asf, _write(tmp_path, 'c.asf', ASF_TEXT.replace('    femur tibia\n', '')), "['tibia']", 'not reachable')


def test_mapping_units_and_z_up(small_asf, small_bvh):
    "The H36M17 mappers reject unknown skeletons; `y_up_to_z_up` is a proper rotation."
    with pytest.raises(ValueError, match='unknown BVH skeleton'):
        bvh_to_h36m17(small_bvh)
    with pytest.raises(ValueError, match='no joint'):
        asf_amc_to_h36m17(*small_asf)
    x = np.random.default_rng(0).normal(size=(5, 3))
    z = y_up_to_z_up(x)
    assert np.allclose(z, x @ np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]]))
    assert np.allclose(z[:, 2], x[:, 1]) and SOURCE_UP == 'y'


def test_asf_mapping_on_a_full_tiny_skeleton(tmp_path):
    "A minimal skeleton with every bone the HDM05 mapping needs, in rest pose: mm scale, midpoint hip, z-up."
    names = ['lhipjoint', 'lfemur', 'ltibia', 'rhipjoint', 'rfemur', 'rtibia', 'lowerback', 'upperback', 'thorax',
             'lowerneck', 'upperneck', 'head', 'lclavicle', 'lhumerus', 'lradius', 'lwrist', 'rclavicle', 'rhumerus',
             'rradius', 'rwrist']
    dirs = {'lhipjoint': (1, -1, 0), 'rhipjoint': (-1, -1, 0), 'lclavicle': (1, 0, 0), 'rclavicle': (-1, 0, 0),
            'lhumerus': (1, 0, 0), 'rhumerus': (-1, 0, 0), 'lradius': (1, 0, 0), 'rradius': (-1, 0, 0),
            'lwrist': (1, 0, 0), 'rwrist': (-1, 0, 0)}
    down = {'lfemur', 'ltibia', 'rfemur', 'rtibia'}
    bones = ''.join(f"  begin\n     id {i}\n     name {n}\n     direction {' '.join(map(str, dirs.get(n, (0, -1, 0) if n in down else (0, 1, 0))))}\n"
                    f"     length 1\n     axis 0 0 0 XYZ\n    dof rx\n  end\n" for i, n in enumerate(names))
    hier = ("root lhipjoint rhipjoint lowerback\nlhipjoint lfemur\nlfemur ltibia\nrhipjoint rfemur\nrfemur rtibia\n"
            "lowerback upperback\nupperback thorax\nthorax lowerneck lclavicle rclavicle\nlowerneck upperneck\n"
            "upperneck head\nlclavicle lhumerus\nlhumerus lradius\nlradius lwrist\nrclavicle rhumerus\nrhumerus rradius\n"
            "rradius rwrist\n")
    asf = _write(tmp_path, 'full.asf', ASF_TEXT.split(':bonedata')[0] + ':bonedata\n' + bones + ':hierarchy\n  begin\n' + hier + '  end\n')
    amc = _write(tmp_path, 'full.amc', ':DEGREES\n1\nroot 0 0 0 0 0 0\n' + ''.join(f'{n} 0\n' for n in names))
    y, fps = asf_amc_to_h36m17(asf, amc)
    assert y.shape == (1, 17, 3) and y.dtype == np.float32 and fps == 120.0
    u, h = ASF_UNIT_MM, math.sqrt(0.5) * ASF_UNIT_MM
    J = {n: i for i, n in enumerate(H36M17.joint_names)}
    assert np.allclose(y[0, J['Hip']], [0, -h, 0], atol=1e-3)
    assert np.allclose(y[0, J['LHip']], [h, -h, 0], atol=1e-3) and np.allclose(y[0, J['RFoot']], [-h, -h - 2 * u, 0], atol=1e-3)
    assert np.allclose(y[0, J['Head']], [0, 6 * u, 0], atol=1e-3) and np.allclose(y[0, J['LWrist']], [4 * u, 3 * u, 0], atol=1e-3)
    z, _ = asf_amc_to_h36m17(asf, amc, to_z_up=True)
    assert np.allclose(z[0, J['Head']], [0, 0, 6 * u], atol=1e-3)


# ---------------------------------------------------------------- real files (skip when ../shared/data is absent)
def test_bvh_16_01_matches_bvh_converter(cmu_raw):
    b = parse_bvh(cmu_raw / '16_01.bvh')
    x = bvh_world_positions(b)
    csv = cmu_raw / '16_01_worldpos_bvhconverter.csv'
    header = csv.read_text().splitlines()[0].split(',')
    ref = np.loadtxt(csv, delimiter=',', skiprows=1)
    names = [h[:-2] for h in header[1::3]]
    assert set(names) == set(b.joint_names)
    ref = ref[:, 1:].reshape(len(ref), len(names), 3)
    assert x.shape[0] == ref.shape[0] == 322
    err = np.abs(x[:, [b.index(n) for n in names]] - ref).max()
    assert err < 1e-4, err  # file units (56 mm): float32 FK precision


def test_bvh_16_01_mapping_is_plausible(cmu_raw):
    "The amc2bvh layout: mm scale from ASF units, rigid limbs of human length, Y up."
    y, fps = bvh_to_h36m17(cmu_raw / '16_01.bvh')
    assert y.shape == (322, 17, 3) and abs(fps - 30) < 1e-3
    J = {n: i for i, n in enumerate(H36M17.joint_names)}
    thigh = np.linalg.norm(y[:, J['RKnee']] - y[:, J['RHip']], axis=-1)
    shin = np.linalg.norm(y[:, J['RFoot']] - y[:, J['RKnee']], axis=-1)
    assert 350 < thigh.mean() < 500 and 350 < shin.mean() < 500 and thigh.std() < 0.1
    height = y[:, J['Head'], 1] - y[:, J['RFoot'], 1]
    assert np.median(height) > 1300 and (height > 0).all()  # Y is up, ~1.5 m figure


def test_bvh_02_01_matches_cmu_npz(cmu_raw, cmu_npz):
    d = np.load(cmu_npz)
    m = d['sequence'] == '02_01'
    y, fps = bvh_to_h36m17(cmu_raw / '02_01.bvh')
    assert y.shape == (344, 17, 3) and y.dtype == np.float32 and abs(fps - float(d['fps'])) < 1e-3
    err = np.abs(y[d['frame_index'][m]] - d['positions'][m]).max()
    assert err < 0.01, err  # mm
    z, _ = bvh_to_h36m17(cmu_raw / '02_01.bvh', to_z_up=True, frames=d['frame_index'][m][:5])
    assert np.allclose(z, y_up_to_z_up(d['positions'][m][:5]), atol=0.01)
    y2, _ = bvh_to_h36m17(cmu_raw / '02_01.bvh', scale=1.0, frames=[10])
    assert np.allclose(y2 * 10, y[10:11], atol=1e-3)  # the file is in centimetres


def test_asf_amc_hdm05_matches_npz(hdm05_raw, hdm05_npz):
    d = np.load(hdm05_npz)
    clip = list(d['clip_names']).index('HDM_mm_squat1Reps_037_120.amc')
    ref = d['positions'][d['clip'] == clip]
    y, fps = asf_amc_to_h36m17(hdm05_raw / 'HDM_mm.asf', hdm05_raw / 'HDM_mm_squat1Reps_037_120.amc', to_z_up=True)
    assert fps == float(d['source_fps'])
    y = y[::4]
    assert len(y) == len(ref) == 48
    err = np.abs(y - ref).max()
    assert err < 0.01, err  # mm
    asf = read_asf(hdm05_raw / 'HDM_mm.asf')
    assert len(asf.bones) == 30 and asf.units['length'] == 0.45


# ---------------------------------------------------------------- issue 18: scales that mirror or collapse the body
@pytest.mark.parametrize('scale', [0., -10., float('nan'), float('inf'), 'cm'])
def test_bvh_and_asf_scale_must_be_positive(cmu_raw, hdm05_raw, scale):
    "A zero, negative (mirroring), NaN, infinite or non-numeric scale is refused, naming the file and the scale."
    with pytest.raises(ValueError, match=r"02_01\.bvh: scale \(mm per file unit\) must be a finite number > 0"):
        bvh_to_h36m17(cmu_raw / '02_01.bvh', scale=scale, frames=[0])
    with pytest.raises(ValueError, match=r"HDM_mm_squat1Reps_037_120\.amc: scale \(mm per file unit\) must be"):
        asf_amc_to_h36m17(hdm05_raw / 'HDM_mm.asf', hdm05_raw / 'HDM_mm_squat1Reps_037_120.amc', scale=scale, frames=[0])


@pytest.mark.parametrize('length', ['0', '-0.45'])
def test_asf_zero_or_negative_length_unit_refused(tmp_path, length):
    "An ASF whose ':units length' is zero or negative cannot give millimetres: refused naming the ASF file."
    bad = _write(tmp_path, 'neg.asf', ASF_TEXT.replace('  length 0.45', f'  length {length}'))
    amc = _write(tmp_path, 'neg.amc', AMC_TEXT)
    with pytest.raises(ValueError, match=r"neg\.asf: scale \(mm per file unit\) must be a finite number > 0"):
        asf_amc_to_h36m17(bad, amc, mapping={j: 'tibia' for j in H36M17.joint_names})


@pytest.mark.parametrize('frame_time', ['0', '-0.0083333'])
def test_bvh_zero_or_negative_frame_time_refused(cmu_raw, tmp_path, frame_time):
    "A BVH whose 'Frame Time' is zero or negative has no valid fps: `read_bvh` refuses it, naming the file."
    lines = (cmu_raw / '02_01.bvh').read_text(encoding='latin-1').splitlines()
    k = next(i for i, l in enumerate(lines) if l.startswith('Frames:'))
    bad = _write(tmp_path, 'bad_time.bvh', '\n'.join(lines[:k] + ['Frames: 10', f'Frame Time: {frame_time}'] + lines[k + 2:k + 12]))
    with pytest.raises(ValueError, match=rf"bad_time\.bvh, line \d+: 'Frame Time:' must be a finite number of seconds > 0 .*got {frame_time}$"):
        read_bvh(bad)


# ---------------------------------------------------------------- issue 18 sweep: values found are named
def test_asf_zero_direction_and_units_length_named(tmp_path):
    "A bone whose direction is 0 0 0 is refused at its line; a bad ':units length' is quoted in the scale error."
    bad = _write(tmp_path, 'zero.asf', ASF_TEXT.replace('direction 0 -1 0', 'direction 0 0 0'))
    with pytest.raises(ValueError, match=r"zero\.asf, line \d+: bone 'femur': direction 0 0 0 has no direction"):
        read_asf(bad)
    neg = _write(tmp_path, 'neg.asf', ASF_TEXT.replace('  length 0.45', '  length -0.45'))
    with pytest.raises(ValueError, match=r"from ':units length -0.45' of the ASF"):
        asf_amc_to_h36m17(neg, _write(tmp_path, 'neg.amc', AMC_TEXT), mapping={j: 'tibia' for j in H36M17.joint_names})


def test_bvh_negative_frame_count_refused(small_bvh, tmp_path):
    p = _write(tmp_path, 'neg.bvh', BVH_TEXT.replace('Frames: 2', 'Frames: -2'))
    _raises(parse_bvh, p, "'Frames:' must be a whole number >= 0, got -2")
