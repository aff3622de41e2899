"""plotly.js of the installed ``plotly`` package, copied into the app's static folder.

The canvas (app_pages/canvas.py) loads it from ``static/vendor/`` (served at
``/app/static/vendor/``; not in git). No Streamlit here, so a container build can place it
once, ahead of time, where the app's (non-root) user could not write at run time::

    python -m app_pages.vendor
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import plotly

STATIC = Path(__file__).resolve().parents[1] / "static"
VENDOR = STATIC / "vendor"


def vendor_plotly() -> str:
    """Copy the installed plotly package's plotly.js into ``static/vendor`` (once) and
    return its file name, which carries the version so a browser never mixes versions."""
    name = f"plotly-{plotly.__version__}.min.js"
    source = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    target = VENDOR / name
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        VENDOR.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{hashlib.sha1(str(id(target)).encode()).hexdigest()}")
        shutil.copyfile(source, partial)
        partial.replace(target)  # atomic: two sessions starting at once never see half
    return name


if __name__ == "__main__":
    print(VENDOR / vendor_plotly())
