"Drive JupyterLab in headless Chromium (Playwright): open a notebook, run all cells, wait for plotly, move a slider, screenshot."
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
def jupyter_lab(root: Path, token: str = 'posebench-test'):
    "A JupyterLab server on localhost serving `root`; yields its base URL."
    port = _free_port()
    # a private workspace/settings folder: a layout saved by an earlier session must not reopen other notebooks
    env = dict(os.environ, JUPYTER_TOKEN=token, OMP_NUM_THREADS='1',
               JUPYTERLAB_WORKSPACES_DIR=str(Path(root) / '.workspaces'),
               JUPYTERLAB_SETTINGS_DIR=str(Path(root) / '.settings'),
               # the kernels import this checkout's posebench even when it is not installed
               PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                         os.environ.get('PYTHONPATH')])))
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

def run_dashboard(url: str, token: str, notebook: str, shot_dir: Path, timeout_s: float = 240) -> dict:
    "Open `notebook` in JupyterLab, Run All, wait for a plotly figure, move the first slider, save two screenshots."
    from playwright.sync_api import sync_playwright
    shot_dir = Path(shot_dir); shot_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(notebook).stem
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                     args=['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                                           '--use-gl=swiftshader', '--enable-unsafe-swiftshader'])
        page = browser.new_page(viewport={'width': 1500, 'height': 1100})
        # one fresh workspace per notebook (?reset): only this notebook is open
        page.goto(f'{url}/lab/workspaces/{stem}/tree/{notebook}?reset&token={token}', timeout=timeout_s * 1000)
        page.wait_for_selector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook', timeout=timeout_s * 1000)
        # wait for the kernel to be idle, then Run All Cells through the command palette
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"], .jp-Toolbar-kernelStatus', timeout=timeout_s * 1000)
        time.sleep(2)
        dialogs = _dismiss_dialogs(page)
        page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook').first.click()
        page.keyboard.press('Control+Shift+c')
        page.wait_for_selector('.lm-CommandPalette-input, .jp-CommandPalette input', timeout=20000)
        page.keyboard.type('Run All Cells')
        time.sleep(0.5)
        page.keyboard.press('Enter')
        # wait until every cell ran (no "[*]" prompt), stopping early on a Python error output
        t0, error = time.time(), None
        while time.time() - t0 < timeout_s:
            time.sleep(2)
            err = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]:has-text("Error"), '
                               '.jp-OutputArea-output:has-text("Traceback")')
            if err.count(): error = err.first.inner_text()[-3000:]; break
            busy = page.locator('.jp-InputPrompt:has-text("[*]")').count()
            if busy == 0 and page.locator('.js-plotly-plot').count(): break
        if error is None: page.wait_for_selector('.js-plotly-plot', state='attached', timeout=30000)
        time.sleep(3)
        for b in page.locator('.jp-Notification-Toast-Close, .jp-toast-button:has-text("No")').all():
            try: b.click(timeout=2000)           # the "notified about Jupyter news?" toast covers the figures
            except Exception: pass
        page.screenshot(path=str(shot_dir / f'{stem}_page.png'), full_page=False)
        # the dashboard: the last output holding a plotly figure, captured as an element
        dash = page.locator('.jp-OutputArea-output:has(.js-plotly-plot)').last
        def shot(name):
            if dash.count():
                dash.scroll_into_view_if_needed(); time.sleep(1); dash.screenshot(path=str(shot_dir / name))
            else: page.screenshot(path=str(shot_dir / name), full_page=False)
        shot(f'{stem}.png')
        moved = False
        handles = page.locator('.jp-OutputArea .noUi-handle')
        if handles.count():
            h = handles.last          # the dashboard is the last output; its last slider is the one to move
            h.scroll_into_view_if_needed(); time.sleep(1)
            h.focus()
            for _ in range(5): page.keyboard.press('ArrowRight')
            moved = True
            time.sleep(2)
            shot(f'{stem}_moved.png')
        dialogs += _dismiss_dialogs(page)
        text = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook').first.inner_text()
        n_plots = page.locator('.js-plotly-plot').count()
        browser.close()
    return {'dialogs': dialogs, 'plots': n_plots, 'text': text, 'error': error,
            'moved': moved, 'screenshot': shot_dir / f'{stem}.png'}
