"README.md is rendered from nbs/index.ipynb and starts with the two commands CI and newcomers use."
import re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
from readme import render


def test_readme_matches_index_notebook():
    assert (ROOT / 'README.md').read_text(encoding='utf-8') == render(), \
        'README.md is stale: edit nbs/index.ipynb and run python tools/readme.py'


def test_readme_commands_where_ci_reads_them():
    lines = (ROOT / 'README.md').read_text(encoding='utf-8').splitlines()
    i = lines.index('<!-- test-command -->')
    assert lines[i + 1] == '```bash' and 'pytest' in lines[i + 2] and 'nbdev_test' in lines[i + 2]
    install = next(l for l in lines if l.startswith('pip install'))
    assert 'posebench demo' in install and lines.index(install) < i      # the main job comes first
    # the line .ci/run evaluates is the one found here
    out = subprocess.run(['awk', '/<!-- test-command -->/{getline; getline; print; exit}', str(ROOT / 'README.md')],
                         capture_output=True, text=True).stdout.strip()
    assert out == lines[i + 2]


def test_readme_images_exist():
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    for img in re.findall(r'!\[[^\]]*\]\(([^)]+)\)', text):
        assert (ROOT / img).is_file(), f'README.md shows {img}, which does not exist'
