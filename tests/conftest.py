import os

# Same as engine/__init__.py: one BLAS thread, set before NumPy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
