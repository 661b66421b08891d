"""Generated poses per second of the PoseGU generator, per stage and end to end, before and after the planned FK,
next to an arithmetic limit of this machine.

Stages (as `PoseGenerator.sample` runs them): sampling (labels, key-frame angles inside the action ranges, heading,
tilt, camera, root), key-frame interpolation (eq. 7), forward kinematics, whole-body rotation + root placement,
camera projection. "before" is the joint-by-joint implementation this repository had until the planned FK (kept
below as `legacy_sample`: `euler_to_matrix` + `geometry.forward_kinematics` over the 17 joints, then rotation and
projection as separate passes); "after" is `PoseGenerator.sample` (per-level plan, structure of arrays, rotation and
root fused into the FK, key-frame interpolation as one broadcast multiply-add, levels written into one buffer, outputs
transposed as 2-D copies, chunks of ~8k poses). Variants are timed interleaved, round after round; medians are printed.

The arithmetic limit: FLOPs per pose of the planned algorithm (counted from the skeleton's plan, a sin or cos counted
as 15 FLOPs) times nothing else, divided into the float32 matmul throughput measured here (2048² sgemm) — what the
machine could do if the generator ran at matmul speed. Real generators are bound by memory traffic and transcendental
functions far below it; the ratio says how far.

    OMP_NUM_THREADS=2 python benchmarks/generator.py [--batch 100000] [--rounds 5] [--threads 2] [--compile] [--json out.json]
"""
import argparse, json, math, statistics, time
import torch
from posebench.data import load_benchmark
from posebench.geometry import axis_rotation, euler_to_matrix, forward_kinematics, project
from posebench.kinematics import (PoseGenerator, select_seeds, forward_kinematics_angles, interpolate_keyframes, bone_frames,
                                  _fk_plan, _fk_soa)

TRIG_FLOPS = 15


def legacy_fk(angles, lengths, skel):
    "The joint-by-joint FK `forward_kinematics_angles` used before the planned one (the reference definition)."
    F = bone_frames(skel)
    local = F.C.to(angles) @ euler_to_matrix(angles)
    root_rot = local[..., F.orient, :, :]
    eye = torch.eye(3, dtype=angles.dtype, device=angles.device).expand_as(local[..., :1, :, :])
    local = torch.cat([eye, local[..., :F.orient, :, :], eye, local[..., F.orient + 1:, :, :]], -3)
    batch = torch.broadcast_shapes(angles.shape[:-2], lengths.shape[:-1])
    offsets = torch.zeros(*batch, skel.num_joints, 3, dtype=angles.dtype, device=angles.device)
    offsets[..., 1:, 0] = lengths
    return forward_kinematics(local.expand(*batch, *local.shape[-3:]), offsets, list(skel.parents),
                              root_rot=root_rot.expand(*batch, 3, 3))[0]


def draw(gen, S, g):
    "Stage 1, sampling: every random quantity of `S` sequences, in the generator's draw order."
    dev, T, n = gen.device, gen.sequence_length, gen.frames_per_key
    K = -(-(T - 1) // n) + 1 if T > 1 else 2
    A = len(gen.ranges.actions)
    rnd = lambda *shape: torch.rand(*shape, generator=g, device=dev)
    action = (rnd(S) * A).long().clamp_max(A - 1)
    template = (rnd(S) * len(gen.bone_templates)).long().clamp_max(len(gen.bone_templates) - 1)
    cam = (rnd(S) * len(gen.cameras)).long().clamp_max(len(gen.cameras) - 1)
    keys = gen.ranges.sample(action[:, None].expand(S, K), generator=g)
    heading, tilt = rnd(S) * 2 * math.pi, (rnd(S) * 2 - 1) * math.radians(gen.tilt_deg)
    R = axis_rotation(tilt, 'x') @ axis_rotation(heading, 'y')
    K6 = gen.cameras[cam]
    depth = gen.depth_mm[0] + rnd(S) * (gen.depth_mm[1] - gen.depth_mm[0])
    uv = K6[:, 4:6] * (0.5 + (rnd(S, 2) * 2 - 1) * (0.5 - gen.screen_margin))
    root = torch.cat([(uv - K6[:, 2:4]) / K6[:, 0:2] * depth[:, None], depth[:, None]], -1)
    return dict(keys=keys, template=template, R=R, K6=K6, root=root)


def legacy_sample(gen, S, g):
    "`PoseGenerator.sample` as it was: whole-batch tensors, joint-by-joint FK, separate rotation and projection passes."
    d = draw(gen, S, g)
    T = gen.sequence_length
    angles = interpolate_keyframes(d['keys'], gen.frames_per_key, T)
    x = legacy_fk(angles, gen.bone_templates[d['template']][:, None].expand(S, T, -1), gen.ranges.skeleton)
    x = x @ d['R'][:, None].transpose(-1, -2) + d['root'][:, None, None, :]
    return project(x, d['K6'][:, None, :4])


def flops_per_pose(skel):
    "FLOPs of one pose through the planned generator (interpolation, trig, Euler entries, products, positions, projection)."
    P = _fk_plan(skel)
    B, J = skel.num_bones, skel.num_joints
    inner = sum(ni for _, _, ni, _, _ in P.levels)
    leaves = B - inner
    f = {'interpolation (3 per angle)': 3 * 3 * B,
         f'sin + cos ({TRIG_FLOPS} per call)': 2 * 3 * B * TRIG_FLOPS,
         'Euler entries': 18 * B,
         'frame products (45 inner, 15 leaf)': 45 * inner + 15 * leaves + 45,
         'joint positions': 6 * B,
         'projection': 6 * J}
    return f, sum(f.values())


def matmul_flops(n=2048, reps=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(ts)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=100_000, help='poses per call (whole sequences)')
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--data', default='default')
    p.add_argument('--device', default='cpu')
    p.add_argument('--chunk', type=int, default=8192, help='poses per FK chunk of the planned sampler')
    p.add_argument('--compile', action='store_true', help='also time a torch.compile-d planned FK (compile time separate)')
    p.add_argument('--skip-before', action='store_true', help='do not time the old implementation (slow)')
    p.add_argument('--json', default=None)
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    train, _ = load_benchmark(a.data)
    gen = PoseGenerator.from_poseset(train[select_seeds(train, 20)]).to(dev)
    skel, T = gen.ranges.skeleton, gen.sequence_length
    S = -(-a.batch // T)
    N = S * T
    g = torch.Generator(device=dev).manual_seed(0)
    P = _fk_plan(skel)
    o = P.order.to(dev)

    # inputs of the single stages (fixed, so every round times the same work)
    d = draw(gen, S, g)
    ang = interpolate_keyframes(d['keys'], gen.frames_per_key, T)
    L = gen.bone_templates[d['template']][:, None].expand(S, T, -1)
    x0 = legacy_fk(ang, L, skel)
    x1 = x0 @ d['R'][:, None].transpose(-1, -2) + d['root'][:, None, None, :]
    per = lambda v: v[..., None].expand(*v.shape, T).movedim(0, -2).reshape(*v.shape[1:], -1)
    a_soa = ang.index_select(2, o).permute(2, 3, 0, 1).reshape(skel.num_bones, 3, -1).contiguous()
    l_soa, R_soa, r_soa = per(gen.bone_templates[d['template']].index_select(1, o)), per(d['R']), per(d['root'])
    err = (forward_kinematics_angles(ang, L, root=d['root'][:, None], rotation=d['R'][:, None]) - x1).abs().max().item()

    variants = {
        'sampling': lambda: draw(gen, S, g),
        'interpolation': lambda: interpolate_keyframes(d['keys'], gen.frames_per_key, T),
        'before: FK (joint by joint)': lambda: legacy_fk(ang, L, skel),
        'before: rotation + root': lambda: x0 @ d['R'][:, None].transpose(-1, -2) + d['root'][:, None, None, :],
        'projection': lambda: project(x1, d['K6'][:, None, :4]),
        'after: FK (planned, one call)': lambda: forward_kinematics_angles(ang, L),
        'after: FK + rotation + root (planned, chunked)': lambda: [_fk_soa(a_soa[..., i:i + a.chunk], l_soa[..., i:i + a.chunk],
                                                                           R_soa[..., i:i + a.chunk], r_soa[..., i:i + a.chunk], P)
                                                                  for i in range(0, N, a.chunk)],
        'before: end to end (legacy_sample)': lambda: legacy_sample(gen, S, g),
        'after: end to end (PoseGenerator.sample)': lambda: gen.sample(S, g, chunk=a.chunk),
    }
    if a.skip_before: variants = {k: v for k, v in variants.items() if not k.startswith('before')}
    compile_s = None
    if a.compile:                                       # the first call compiles the chunk FK (one shape); timed apart
        t = time.perf_counter(); gen.sample(S, g, chunk=a.chunk, compile=True); sync()
        compile_s = time.perf_counter() - t
        variants['after: end to end, torch.compile (PoseGenerator.sample(compile=True))'] = lambda: gen.sample(S, g, chunk=a.chunk, compile=True)
    for f in variants.values(): f()                                            # warm-up
    sync()
    times = {k: [] for k in variants}
    for _ in range(a.rounds):                                                  # interleaved rounds
        for k, f in variants.items():
            t = time.perf_counter(); f(); sync(); times[k].append(time.perf_counter() - t)
    rate = {k: N / statistics.median(v) for k, v in times.items()}

    fl, fpp = flops_per_pose(skel)
    mm = matmul_flops() if dev.type == 'cpu' else None
    limit = mm / fpp if mm else None
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {name}, {N:,} poses per call ({S} sequences x {T} frames), {a.rounds} interleaved rounds")
    print(f"planned FK (rotation, root fused) vs joint-by-joint: max |diff| {err:.2e} mm")
    print("\n| stage | M poses/s (median) |\n| --- | --- |")
    for k, r in rate.items(): print(f"| {k} | {r / 1e6:.3f} |")
    e2e_b, e2e_a = rate.get('before: end to end (legacy_sample)'), rate['after: end to end (PoseGenerator.sample)']
    if e2e_b: print(f"\nend to end: after / before = {e2e_a / e2e_b:.1f}x")
    print(f"\nFLOPs per pose {fpp} ({', '.join(f'{k} {v}' for k, v in fl.items())})")
    if limit:
        print(f"float32 matmul throughput here: {mm / 1e9:.1f} GFLOP/s -> arithmetic limit {limit / 1e6:.1f} M poses/s; "
              f"end to end reaches {e2e_a / limit:.1%} of it")
    if compile_s is not None: print(f"torch.compile of the chunk FK: first call (compilation) {compile_s:.1f} s, not in the rates")
    out = dict(device=name, torch=torch.__version__, poses_per_call=N, rounds=a.rounds, rates_poses_per_s=rate,
               flops_per_pose=fpp, flops_breakdown=fl, matmul_flops_per_s=mm, limit_poses_per_s=limit,
               limit_ratio=(e2e_a / limit if limit else None), speedup_end_to_end=(e2e_a / e2e_b if e2e_b else None),
               compile_s=compile_s, max_abs_diff_mm=err)
    if a.json:
        with open(a.json, 'w') as f: json.dump(out, f, indent=1)
    return out


if __name__ == '__main__':
    main()
