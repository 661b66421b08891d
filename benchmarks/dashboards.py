"""Dashboard speed on this machine: time to usable after Run All, browser-side frame-step latency, kernel-side costs.

    python benchmarks/dashboards.py                   # everything (~3 min on 2 cores)
    python benchmarks/dashboards.py --only browser    # JupyterLab + headless Chromium: open times and latencies
    python benchmarks/dashboards.py --load 1          # the same with one busy-loop process beside it
    python benchmarks/dashboards.py --only browser --json docs/results/dashboards/browser.json   # and record it

Browser (needs chromium + playwright): each dashboard notebook is opened in JupyterLab and Run All pressed; *usable*
is the time until no cell is busy and every figure holds drawn data (goal: 10 s); the page's own timestamps (ms after
Run All: plotly module evaluated, bundle requested / received / loaded, first view rendered, first draw of each view)
show where the time goes. Then the skeleton viewer's
frame slider is stepped with the arrow key `--steps` times; the latency of a step is the time from the key press
(a `keydown` listener in the page) to plotly's `plotly_afterplot` event of the 3D and of the 2D panel (goal: median
<= 150 ms for both).
Kernel side: one sensitivity-probe slider move (model forward + figure update, no browser) and one distribution-
explorer quantity change over 1M poses (statistics + binning in torch; only bin counts reach the figure).
"""
import argparse, json, os, platform, shutil, statistics, sys, tempfile, time
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))

KEY_JS = "() => { window.__pbKey = null; document.addEventListener('keydown', () => { window.__pbKey = performance.now(); }, true); }"
STEP_JS = """([n3, n2]) => { const a = window.__posebenchAfterplot || {};
  return a['3d'] && a['2d'] && a['3d'].n > n3 && a['2d'].n > n2 && window.__pbKey !== null
    ? [a['3d'].t - window.__pbKey, a['2d'].t - window.__pbKey, a['3d'].n, a['2d'].n] : null; }"""

def browser(steps: int = 20, load: int = 0, pick: str = '') -> dict:
    "Usable-after-Run-All seconds per dashboard and the viewer's frame-step latencies (ms) in headless Chromium."
    from playwright.sync_api import sync_playwright
    from browser import EXPECTED_FIGURES, cpu_load, jupyter_lab, launch, open_notebook, _command, wait_usable
    out = {'usable_s': {}}
    with tempfile.TemporaryDirectory() as d, cpu_load(load):
        root = Path(d)
        for nb in sorted((ROOT / 'nbs' / 'dashboards').glob(f'*{pick}*.ipynb' if pick else '*.ipynb')): shutil.copy(nb, root / nb.name)
        with jupyter_lab(root) as (url, token), sync_playwright() as pw:
            b = launch(pw)
            for nb in sorted(p.name for p in root.glob('*.ipynb')):
                page = b.new_page(viewport={'width': 1500, 'height': 1100})
                open_notebook(page, url, token, nb, 120)
                t_run = page.evaluate("() => performance.now()")
                _command(page, 'Run All Cells')
                usable, figs, err = wait_usable(page, 120, EXPECTED_FIGURES.get(nb, 1))
                if err: raise RuntimeError(f'{nb}: {err}')
                if usable is None: raise RuntimeError(f'{nb}: not usable within 120 s: {figs}')
                out['usable_s'][nb] = usable
                t = page.evaluate("() => window.__posebenchTimes || {}")
                first = t.pop('first', {}); t.pop('draws', None)
                marks = {k: round(v - t_run) for k, v in sorted(t.items(), key=lambda kv: kv[1])}
                marks.update({f'first draw {k}': round(v - t_run) for k, v in sorted(first.items(), key=lambda kv: kv[1])})
                out.setdefault('page_ms', {})[nb] = marks
                print(f'{nb}: usable {usable:.1f} s after Run All ({len(figs)} figures); ms after Run All: {marks}', flush=True)
                if nb.startswith('skeleton'):
                    h = page.locator('.jp-OutputArea .noUi-handle').first
                    h.scroll_into_view_if_needed(); time.sleep(1)
                    page.evaluate(KEY_JS)
                    h.focus(); time.sleep(0.5)
                    l3, l2, parts = [], [], []
                    for _ in range(steps):
                        a = page.evaluate("() => window.__posebenchAfterplot || {}")
                        n3, n2 = a.get('3d', {}).get('n', 0), a.get('2d', {}).get('n', 0)
                        page.keyboard.press('ArrowRight')
                        r = page.wait_for_function(STEP_JS, arg=[n3, n2], timeout=10000, polling='raf').json_value()
                        l3.append(r[0]); l2.append(r[1])
                        # where a step's time goes: key press -> draw queued (kernel round trip) -> started -> done
                        d = page.evaluate("() => { const d = window.__posebenchTimes.draws; return [d['3d'].slice(-1)[0], d['2d'].slice(-1)[0], window.__pbKey]; }")
                        parts.append({v: [round(d[i][0] - d[2]), round(d[i][1] - d[2]), round(d[i][2] - d[2])] for i, v in enumerate(('3d', '2d'))})
                        time.sleep(0.3)
                    out['step_3d_ms'], out['step_2d_ms'], out['step_parts_ms'] = l3, l2, parts
                    # play (interval 100 ms = 10 fps asked): frames drawn per second in the 3D panel over 5 s
                    readout = page.locator('.widget-slider .widget-readout').first
                    n0, f0 = page.evaluate("() => window.__posebenchAfterplot['3d'].n"), int(readout.inner_text())
                    page.locator('.widget-play button').first.click(); t0 = time.time(); time.sleep(5)
                    n1, f1 = page.evaluate("() => window.__posebenchAfterplot['3d'].n"), int(readout.inner_text())
                    dt = time.time() - t0
                    page.locator('.widget-play button').nth(1).click()
                    out['play_fps'], out['play_advance'] = (n1 - n0) / dt, (f1 - f0) / dt
                page.close()
            b.close()
    return out

def probe_ms(moves: int = 30) -> float:
    from posebench.data import default_dataset
    from posebench.viz import SensitivityProbe, load_model
    from posebench.unsupervised import hardy_normalize
    ds = default_dataset()
    net, _ = load_model('hardy_full')
    probe = SensitivityProbe({'hardy_full': lambda v: net.lift(hardy_normalize(v))}, ds.pose2d[:100], ds.skeleton, scale_mm=1.0)
    probe.joint.value = ds.skeleton.index('RWrist')
    times = []
    for i in range(moves):
        t = time.perf_counter(); probe.sx.value = -0.9 + 0.06 * i; times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)

def explorer_ms(n: int = 1_000_000, changes: int = 6) -> tuple:
    from posebench.data import default_dataset
    from posebench.viz import DistributionExplorer
    ds = default_dataset()
    reps = -(-n // len(ds))
    poses = ds.pose3d.repeat(reps, 1, 1)[:n]
    poses = poses + torch.randn_like(poses) * 5          # not n exact copies
    t = time.perf_counter(); ex = DistributionExplorer({'1M poses': poses, 'original': ds}); build = time.perf_counter() - t
    times, quantities = [], ['position', 'bone_length', 'joint_angle', 'viewpoint', 'position', 'bone_length']
    for i in range(changes):
        t = time.perf_counter(); ex.quantity.value = quantities[i % len(quantities)]; times.append(time.perf_counter() - t)
        assert int(ex.counts['1M poses'].sum()) == n
    return 1000 * build, 1000 * statistics.median(times)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--poses', type=int, default=1_000_000)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--load', type=int, default=0, help='busy-loop processes running beside the browser benchmark')
    p.add_argument('--only', choices=['browser', 'kernel'], default=None)
    p.add_argument('--notebook', default='', help='only the dashboards whose file name contains this')
    p.add_argument('--json', type=Path, default=None, help='write the browser figures (and the machine load) to this file')
    a = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if a.only in (None, 'browser'):
        load0 = os.getloadavg()
        r = browser(a.steps, a.load, a.notebook)
        stepped = 'step_3d_ms' in r                  # only when the skeleton viewer was among the notebooks
        m3, m2 = (statistics.median(r['step_3d_ms']), statistics.median(r['step_2d_ms'])) if stepped else (None, None)
        if a.json:
            import plotly, anywidget
            rec = {'machine': {'cpus': os.cpu_count(), 'platform': platform.platform(), 'loadavg_before': load0,
                               'loadavg_after': os.getloadavg(), 'busy_loops_added': a.load},
                   'versions': {'plotly': plotly.__version__, 'anywidget': anywidget.__version__, 'torch': torch.__version__},
                   'goals': {'usable_s': 10, 'step_median_ms': 150},
                   'usable_s': {k: round(v, 2) for k, v in r['usable_s'].items()}, 'page_ms_after_run_all': r['page_ms'],
                   'command': ' '.join(['python', 'benchmarks/dashboards.py'] + sys.argv[1:]), 'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}
            if stepped:
                rec.update({f'step_{v}_ms': {'median': round(m, 1), 'min': round(min(r[f'step_{v}_ms']), 1), 'max': round(max(r[f'step_{v}_ms']), 1),
                                             'all': [round(x, 1) for x in r[f'step_{v}_ms']]} for v, m in (('3d', m3), ('2d', m2))})
                rec['step_parts_ms'] = {'note': 'per step and panel: [draw queued, started, done] in ms after the key press',
                                        'steps': r['step_parts_ms']}
                rec['play'] = {'asked_fps': 10, 'slider_frames_per_s': round(r['play_advance'], 2), 'draws_3d_per_s': round(r['play_fps'], 2)}
            a.json.parent.mkdir(parents=True, exist_ok=True)
            a.json.write_text(json.dumps(rec, indent=1) + '\n')
            print(f'wrote {a.json}')
        if not stepped: print('frame step: not measured (the skeleton viewer was not among the notebooks)')
        else:
            print(f"frame step, key press -> plotly_afterplot, median of {a.steps}: 3D {m3:.0f} ms, 2D {m2:.0f} ms (goal <= 150 ms); "
                f"3D {min(r['step_3d_ms']):.0f}-{max(r['step_3d_ms']):.0f} ms, 2D {min(r['step_2d_ms']):.0f}-{max(r['step_2d_ms']):.0f} ms")
            med = lambda v, i: statistics.median(p[v][i] for p in r['step_parts_ms'])
            print('  medians, ms after the key press: ' + '; '.join(f"{v}: queued {med(v, 0):.0f}, started {med(v, 1):.0f}, done {med(v, 2):.0f}" for v in ('3d', '2d')))
            print(f"play at 10 fps (interval 100 ms): the slider advances {r['play_advance']:.1f} frames/s, the 3D panel draws {r['play_fps']:.1f}/s")
    if a.only in (None, 'kernel'):
        ms = probe_ms()
        print(f"sensitivity probe: {ms:.1f} ms per slider move, kernel side (median; target < 100 ms)")
        b, m = explorer_ms(a.poses)
        print(f"distribution explorer, {a.poses:,} poses: built in {b:.0f} ms, {m:.0f} ms per quantity change (median)")
