"""Descent Lab's pages. Imported once per server process, on the first page that needs it.
("The notes" in the pages' code and texts: the Korean study notes the app teaches,
docs/notes.md.)

Streamlit's full garbage collection after every rerun is switched off in
.streamlit/config.toml (``runner.postScriptGC``): it scanned the ~150,000 long-lived objects
of Streamlit, Plotly, pandas and the engine and blocked the server 100-150 ms per rerun
(measured with benchmarks/latency.py), which the live-training fragment pays several times
a second. Python's own generational collector still runs; freezing the import-time objects
once keeps its occasional full passes short too.
"""

import gc

gc.collect()  # so no import-time garbage is frozen with them
gc.freeze()
