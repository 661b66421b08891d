"""Render README.md from nbs/index.ipynb (the README's source): markdown cells as they are, code cells as ```python
blocks without their nbdev directives (`#| ...`). nbdev's own `nbdev_readme` needs Quarto; this needs nothing.

    python tools/readme.py           # write README.md
    python tools/readme.py --check   # exit 1 when README.md is not what index.ipynb renders to
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def render(nb_path=ROOT / 'nbs' / 'index.ipynb') -> str:
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip('\n')
        if c['cell_type'] == 'markdown': parts.append(src)
        elif c['cell_type'] == 'code':
            code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip('\n')
            if code: parts.append(f"```python\n{code}\n```")
    return '<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->\n\n' + \
           '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT / 'README.md'
    if '--check' in sys.argv:
        ok = readme.is_file() and readme.read_text(encoding='utf-8') == text
        print('README.md is up to date' if ok else 'README.md differs from nbs/index.ipynb: run python tools/readme.py')
        sys.exit(0 if ok else 1)
    readme.write_text(text, encoding='utf-8'); print(f'wrote {readme}')
