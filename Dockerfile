# Descent Lab: one app process per container. Streamlit keeps a session's state in its
# process, so several containers go behind a reverse proxy with session affinity (README,
# "Serving a class"; python -m deploy.classroom --print-site --backends host:port,...).
#
#   docker build -t descent-lab .
#   docker run --rm -p 8501:8501 descent-lab          # then http://<this machine>:8501
#
# The race's engine work runs in worker processes: DL_WORKERS of them (-e DL_WORKERS=2),
# by default the container's cores but one (at least one).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENBLAS_NUM_THREADS=1

WORKDIR /app

# The app and its dependencies (pyproject.toml). The files stay owned by root: the app's
# user reads them and cannot change them.
COPY pyproject.toml README.md app.py texts.py ./
COPY engine engine
COPY viz viz
COPY app_pages app_pages
COPY assets assets
COPY static static
COPY .streamlit .streamlit
# plotly.js of the installed plotly goes into static/vendor/ now: at run time the app's
# user may not write there (app_pages/vendor.py; the app then only finds it in place).
RUN pip install . && python -m app_pages.vendor

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin descent
USER descent

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]

# Listens on every interface of the container; the code never changes inside it, so no
# file watcher.
CMD ["python", "-m", "streamlit", "run", "app.py", \
     "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true", \
     "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]
