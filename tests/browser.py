"""Drive JupyterLab in headless Chromium (Playwright): open a notebook, Run All, wait until every figure holds drawn
data, move a slider, screenshot; optional artificial CPU load, a second Run All and a page reload."""
from __future__ import annotations
import os, shutil, socket, subprocess, sys, time, urllib.request
from contextlib import contextmanager
from pathlib import Path

def chromium_path():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        p = shutil.which(name)
        if p: return p
    return None

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@contextmanager
def cpu_load(n: int = 1):
    "`n` busy-loop subprocesses for the duration of the block (reproducible artificial CPU load); ended by their pids."
    procs = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(max(0, n))]
    try: yield procs
    finally:
        for p in procs: p.kill()
        for p in procs: p.wait(10)

@contextmanager
def jupyter_lab(root: Path, token: str = 'posebench-test', pythonpath: Path | None = None):
    "A JupyterLab server on localhost serving `root`; yields its base URL and token."
    port = _free_port()
    src = Path(pythonpath) if pythonpath else Path(__file__).resolve().parents[1]
    # a private workspace/settings folder: a layout saved by an earlier session must not reopen other notebooks
    env = dict(os.environ, JUPYTER_TOKEN=token, OMP_NUM_THREADS='1',
               JUPYTERLAB_WORKSPACES_DIR=str(Path(root) / '.workspaces'),
               JUPYTERLAB_SETTINGS_DIR=str(Path(root) / '.settings'),
               # the kernels import this checkout's posebench even when it is not installed
               PYTHONPATH=os.pathsep.join(filter(None, [str(src), os.environ.get('PYTHONPATH')])))
    log = open(Path(root) / 'jupyterlab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--allow-root', f'--port={port}',
                             '--ip=127.0.0.1', f'--ServerApp.root_dir={root}', f'--IdentityProvider.token={token}',
                             '--ServerApp.disable_check_xsrf=True', '--LabApp.news_url=',
                             '--LabServerApp.extra_labextensions_path=[]'],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=1); break
            except Exception: time.sleep(0.5)
        else: raise RuntimeError(f"JupyterLab did not start; log: {(Path(root) / 'jupyterlab.log').read_text()[-2000:]}")
        yield url, token
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()

# What each figure on the page holds. Every posebench figure container (`.posebench-plot`, made by PlotView's render
# before plotly.js is even loaded) is counted, with any other plotly figure (`.js-plotly-plot`), so a figure that never
# drew (bundle never arrived, a JS error before the first draw) is reported as not drawn instead of being missed.
# Per figure: traces plotly computed (`_fullData`), how many of their coordinates are numbers, and what reached the
# screen (SVG line paths with a drawing command, heat-map images, bars, WebGL canvases).
FIGURES_JS = """() => Array.from(new Set(document.querySelectorAll('.posebench-plot, .js-plotly-plot'))).map(el => {
  const full = el._fullData || [];
  let points = 0;
  for (const t of full) for (const k of ['x', 'y', 'z']) {
    const v = t[k]; if (v && v.length) for (const a of v) { if (a !== null && a !== undefined && !Number.isNaN(+a)) points++; }
  }
  for (const t of full) if (t.type === 'heatmap' && t.z && t.z.length) points += t.z.length;
  const svgLines = Array.from(el.querySelectorAll('.scatterlayer path.js-line')).filter(p => (p.getAttribute('d') || '').length > 4).length;
  const markers = el.querySelectorAll('.scatterlayer path.point').length;
  const images = el.querySelectorAll('.heatmaplayer image, .hm image').length;
  const bars = el.querySelectorAll('.barlayer path, .bars path').length;
  const canvases = Array.from(el.querySelectorAll('.gl-container canvas, canvas')).filter(c => c.width > 0 && c.height > 0).length;
  const has3d = full.some(t => (t.type || '').endsWith('3d'));
  const r = el.getBoundingClientRect();
  return {plotly: el.classList.contains('js-plotly-plot'), posebench: el.classList.contains('posebench-plot'),
          traces: full.length, points, svgLines, markers, images, bars, canvases, has3d, width: r.width, height: r.height,
          drawn: full.length > 0 && points > 0 && (has3d ? canvases > 0 : (svgLines + markers + images + bars) > 0)};
})"""

# figures each dashboard shows: viewer 3D + 2D + error strip; probe 3D + 2D + curve + two heat-maps; explorer
# histogram + density + the linked viewer's 3D and 2D (no prediction: no strip)
EXPECTED_FIGURES = {'skeleton_viewer.ipynb': 3, 'sensitivity_probe.ipynb': 5, 'distribution_explorer.ipynb': 4}

# The plotted coordinates of every figure on the page (to tell whether a control changed them).
SIGNATURE_JS = """() => JSON.stringify(Array.from(document.querySelectorAll('.posebench-plot, .js-plotly-plot')).map(
  el => (el._fullData || []).map(t => [t.x && Array.from(t.x).slice(0, 60), t.y && Array.from(t.y).slice(0, 60), t.z && Array.from(t.z).slice(0, 60)])))"""

def figure_report(page) -> list:
    "One dict per figure container on the page (see FIGURES_JS); `drawn` is False for an empty or never-drawn figure."
    return page.evaluate(FIGURES_JS)

def _dismiss_dialogs(page) -> list:
    "Accept any modal dialog (kernel choice, notifications); returns their texts."
    seen = []
    for _ in range(5):
        d = page.locator('.jp-Dialog')
        if not d.count(): break
        seen.append(d.first.inner_text()[:200])
        btn = page.locator('.jp-Dialog .jp-mod-accept')
        (btn.first if btn.count() else page.locator('.jp-Dialog button').last).click()
        time.sleep(1)
    return seen

def launch(pw):
    "Headless Chromium with software WebGL."
    return pw.chromium.launch(executable_path=chromium_path(), headless=True,
                              args=['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                                    '--use-gl=swiftshader', '--enable-unsafe-swiftshader'])

def _command(page, name: str, menu: str = 'Run'):
    "Click a JupyterLab menu item (no typing: a key press that misses the palette would edit the notebook)."
    for attempt in range(4):
        try:
            page.locator(f'.lm-MenuBar-itemLabel:text-is("{menu}")').first.click(timeout=10000)
            page.locator(f'.lm-Menu-itemLabel:text-is("{name}")').first.click(timeout=10000)
            return
        except Exception:
            page.keyboard.press('Escape')
            if attempt == 3: raise

def _error_text(page):
    err = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]:has-text("Error"), '
                       '.jp-OutputArea-output:has-text("Traceback")')
    return err.first.inner_text()[-3000:] if err.count() else None

def wait_usable(page, timeout_s: float, min_figures: int = 1) -> tuple:
    """Wait until no cell is busy and at least `min_figures` figure containers are on the page, every one drawn;
    returns (seconds, report, error); seconds is None when that did not happen within `timeout_s`."""
    t0, error, rep = time.time(), None, []
    while time.time() - t0 < timeout_s:
        error = _error_text(page)
        if error: break
        busy = page.locator('.jp-InputPrompt:has-text("[*]")').count()
        rep = figure_report(page)
        if busy == 0 and len(rep) >= min_figures and all(f['drawn'] for f in rep): return time.time() - t0, rep, None
        time.sleep(0.25)
    return None, rep, error

def not_drawn(figures) -> list:
    "Positions of the figures in a report that hold no drawn data (empty, or never drawn at all)."
    return [i for i, f in enumerate(figures) if not f['drawn']]

def open_notebook(page, url, token, notebook, timeout_s):
    stem = Path(notebook).stem
    # one fresh workspace per notebook (?reset): only this notebook is open
    page.goto(f'{url}/lab/workspaces/{stem}/tree/{notebook}?reset&token={token}', timeout=timeout_s * 1000)
    page.wait_for_selector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook', timeout=timeout_s * 1000)
    # Run All only once the kernel is idle and the cells' editors are on screen (under load both take a while)
    page.wait_for_function("() => /\\| Idle/.test(document.querySelector('.jp-StatusBar-Widget, #jp-main-statusbar')?.innerText || '')",
                           timeout=timeout_s * 1000, polling=500)
    page.wait_for_selector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell', state='visible', timeout=timeout_s * 1000)
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"], .jp-Toolbar-kernelStatus', timeout=timeout_s * 1000)
    time.sleep(2)
    return _dismiss_dialogs(page)

TITLES_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ((el._fullLayout || {}).title || {}).text || '')"""

# The page position of a heat-map cell (column, row) or of a fraction of a figure's x axis, from plotly's own axes.
CELL_JS = """([kind, a, b]) => {
  const els = Array.from(document.querySelectorAll('.js-plotly-plot'));
  const el = kind === 'heatmap' ? els.find(e => (e._fullData || []).some(t => t.type === 'heatmap'))
                                : els.find(e => (e._fullLayout || {}).dragmode === 'select');
  el.scrollIntoView({block: 'center'});
  const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis, r = el.getBoundingClientRect();
  if (kind === 'heatmap') return [[r.left + xa._offset + xa.l2p(a), r.top + ya._offset + ya.l2p(b)]];
  const y = r.top + ya._offset + ya._length / 2;
  return [[r.left + xa._offset + a * xa._length, y], [r.left + xa._offset + b * xa._length, y]];
}"""

def _wait_titles(page, before, timeout_s=20):
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        now = page.evaluate(TITLES_JS)
        if now != before: return now
        time.sleep(0.3)
    return page.evaluate(TITLES_JS)

def interact(page, notebook: str) -> dict | None:
    """The dashboard's own interaction, done with the mouse as a user would: the probe's first heat-map cell
    (Head column, LWrist row) is clicked; on the explorer's histogram a range is dragged. Returns the figure titles
    before and after (None for other notebooks)."""
    stem = Path(notebook).stem
    if stem == 'sensitivity_probe':
        # x: predicted 3D joint (column), y: moved 2D key point (row); category positions are joint indices
        ((x, y),) = page.evaluate(CELL_JS, ['heatmap', 10, 13]); time.sleep(0.5)
        ((x, y),) = page.evaluate(CELL_JS, ['heatmap', 10, 13])
        before = page.evaluate(TITLES_JS)
        page.mouse.click(x, y)
    elif stem == 'distribution_explorer':
        page.evaluate(CELL_JS, ['hist', 0.4, 0.55]); time.sleep(0.5)
        (x0, y0), (x1, y1) = page.evaluate(CELL_JS, ['hist', 0.4, 0.55])
        before = page.evaluate(TITLES_JS)
        page.mouse.move(x0, y0); page.mouse.down()
        for k in range(1, 11): page.mouse.move(x0 + (x1 - x0) * k / 10, y0, steps=2)
        page.mouse.up()
    else: return None
    return {'before': before, 'after': _wait_titles(page, before)}

def run_dashboard(url: str, token: str, notebook: str, shot_dir: Path, timeout_s: float = 240,
                  reload: bool = False, rerun: bool = False, min_figures: int = 1) -> dict:
    """Open `notebook` in JupyterLab, Run All, wait until every figure holds drawn data (timed from Run All), move the
    dashboard's last slider, save screenshots; with `rerun`, Run All a second time in the same kernel and report the
    figures again; with `reload`, save, reload the page and report the figures again."""
    from playwright.sync_api import sync_playwright
    shot_dir = Path(shot_dir); shot_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(notebook).stem
    received = [0]
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={'width': 1500, 'height': 1100})
        def on_ws(ws):
            ws.on('framereceived', lambda payload: received.__setitem__(0, received[0] + len(payload)))
        page.on('websocket', on_ws)
        console = []
        page.on('console', lambda m: console.append(f'{m.type}: {m.text}'[:300]) if m.type in ('error', 'warning') else None)
        page.on('pageerror', lambda e: console.append(f'pageerror: {e}'[:300]))
        dialogs = open_notebook(page, url, token, notebook, timeout_s)
        received[0] = 0
        _command(page, 'Run All Cells')
        usable_s, figures, error = wait_usable(page, timeout_s, min_figures)
        times = page.evaluate("() => window.__posebenchTimes || null")
        for b in page.locator('.jp-Notebification-Toast-Close, .jp-Notification-Toast-Close, .jp-toast-button:has-text("No")').all():
            try: b.click(timeout=2000)           # the "notified about Jupyter news?" toast covers the figures
            except Exception: pass
        time.sleep(0.5)
        page.screenshot(path=str(shot_dir / f'{stem}_page.png'), full_page=False)
        # the dashboard: the first output holding a plotly figure, captured as an element
        dash = page.locator('.jp-OutputArea-output:has(.js-plotly-plot)').first
        def shot(name):
            if dash.count():
                dash.scroll_into_view_if_needed(); time.sleep(0.3); dash.screenshot(path=str(shot_dir / name))
            else: page.screenshot(path=str(shot_dir / name), full_page=False)
        shot(f'{stem}.png')
        moved, after_move, changed = False, [], False
        handles = page.locator('.jp-OutputArea .noUi-handle')
        if handles.count() and error is None:
            h = handles.last          # the dashboard is the last output; its last slider is the one to move
            h.scroll_into_view_if_needed(); time.sleep(0.5)
            h.focus()
            before = page.evaluate(SIGNATURE_JS)
            for _ in range(5): page.keyboard.press('ArrowRight')
            moved = True
            t0 = time.time()      # the figures must follow the slider: wait (up to 10 s) until their data changed
            while time.time() - t0 < 10 and page.evaluate(SIGNATURE_JS) == before: time.sleep(0.2)
            changed = page.evaluate(SIGNATURE_JS) != before
            time.sleep(0.5)
            after_move = figure_report(page)
            shot(f'{stem}_moved.png')
        interaction = interact(page, notebook) if error is None else None
        dialogs += _dismiss_dialogs(page)
        text = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook').first.inner_text()
        ws_bytes = received[0]       # one load of the page (a reload fetches plotly.js again)
        rerun_s, after_rerun, after_reload, reload_s = None, None, None, None
        if rerun and error is None:     # Run All again in the same kernel: new widgets replace the old outputs
            _command(page, 'Run All Cells')
            time.sleep(1)
            rerun_s, after_rerun, err2 = wait_usable(page, timeout_s, min_figures)
            error = error or err2
        if reload and error is None:
            page.keyboard.press('Control+s'); time.sleep(1)
            page.reload()
            page.wait_for_selector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook', timeout=timeout_s * 1000)
            t0 = time.time()
            while time.time() - t0 < 60:
                after_reload = figure_report(page)
                if len(after_reload) >= min_figures and all(f['drawn'] for f in after_reload):
                    reload_s = time.time() - t0; break
                time.sleep(0.5)
        browser.close()
    return {'dialogs': dialogs, 'figures': figures, 'after_move': after_move, 'after_reload': after_reload,
            'interaction': interaction, 'reload_s': reload_s, 'after_rerun': after_rerun, 'rerun_s': rerun_s, 'times': times,
            'usable_s': usable_s, 'ws_bytes': ws_bytes, 'console': console, 'text': text, 'error': error, 'moved': moved, 'changed': changed,
            'screenshot': shot_dir / f'{stem}.png'}
