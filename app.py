"""Descent Lab entry point: page config, the language picker, and the navigation."""

import os
from pathlib import Path

# One BLAS thread per process: see engine/__init__.py (must precede the first NumPy import).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import streamlit as st  # noqa: E402

import texts  # noqa: E402
from texts import t  # noqa: E402

HERE = Path(__file__).resolve().parent

st.set_page_config(
    page_title="Descent Lab",
    page_icon=str(HERE / "assets" / "icon.png"),
    layout="wide",
    initial_sidebar_state="expanded",
)

available = texts.languages()
lang = st.sidebar.selectbox(
    ":material/translate: Language",
    options=list(available),
    format_func=available.get,
    key="lang",
    bind="query-params",
)
texts.use(lang)

# (file, title key, icon); only pages whose script exists are listed.
PAGES = [
    ("home.py", "nav.home", ":material/home:"),
    ("race.py", "nav.race", ":material/sports_score:"),
    ("network.py", "nav.network", ":material/hub:"),
]
pages = [
    st.Page(f"app_pages/{file}", title=t(title), icon=icon, default=(file == "home.py"),
            url_path="" if file == "home.py" else file.removesuffix(".py"))
    for file, title, icon in PAGES
    if (HERE / "app_pages" / file).is_file()
]
st.navigation(pages).run()
