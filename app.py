"""Descent Lab entry point: page config, the language picker, and the navigation."""

import os
from pathlib import Path

# One BLAS thread per process: see engine/__init__.py (must precede the first NumPy import).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import streamlit as st  # noqa: E402

import texts  # noqa: E402
from app_pages import compute_pool, layout  # noqa: E402
from texts import t  # noqa: E402

HERE = Path(__file__).resolve().parent

st.set_page_config(
    page_title="Descent Lab",
    page_icon=str(HERE / "assets" / "icon.png"),
    layout="wide",
    # expanded on a screen, collapsed on a phone-sized window (200 % zoom on 1280×720)
    initial_sidebar_state="auto",
)

layout.style()
compute_pool.warm()  # the engine's worker processes start with the first visit

available = texts.languages()
# The language is kept in the URL as its code (?lang=ko) so a shared link opens in it. Not a
# bound widget: pages rewrite the query string and must be free to carry "lang" along.
if "lang" not in st.session_state:
    requested = st.query_params.get("lang", texts.DEFAULT_LANGUAGE)
    st.session_state["lang"] = requested if requested in available else texts.DEFAULT_LANGUAGE
lang = st.sidebar.selectbox(
    ":material/translate: Language",
    options=list(available),
    format_func=available.get,
    key="lang",
)
if lang != texts.DEFAULT_LANGUAGE:
    st.query_params["lang"] = lang
elif "lang" in st.query_params:
    del st.query_params["lang"]
texts.use(lang)
# a fragment's rerun does not run this script: it reads the session's language instead
texts.follow(lambda: st.session_state.get("lang"))

# (file, title key, icon); only pages whose script exists are listed.
PAGES = [
    ("home.py", "nav.home", ":material/home:"),
    ("race.py", "nav.race", ":material/sports_score:"),
    ("network.py", "nav.network", ":material/hub:"),
    ("backprop.py", "backprop.nav", ":material/account_tree:"),
    ("functions.py", "functions.nav", ":material/function:"),
    ("lab.py", "lab.nav", ":material/science:"),
]
pages = [
    st.Page(f"app_pages/{file}", title=t(title), icon=icon, default=(file == "home.py"),
            url_path="" if file == "home.py" else file.removesuffix(".py"))
    for file, title, icon in PAGES
    if (HERE / "app_pages" / file).is_file()
]
st.navigation(pages).run()
