"""Descent Lab's engine: optimizers, schedules, surfaces, descent, MLPs and datasets in NumPy.

Pure NumPy, batch-first ``(B, D)`` float64 arrays, no UI imports: usable from a notebook.
The contract is docs/architecture.md. Where docstrings and registry texts say "the notes",
they mean the Korean study notes the app teaches (docs/notes.md).
"""

import os

# The engine's matrices are tiny (a few networks x a few units); a multi-threaded BLAS
# spends more time waking threads than multiplying, and on a shared classroom server the
# threads of one session steal the cores of the others. OpenBLAS reads this only when NumPy
# is first imported, so app.py sets it too, before anything imports NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
