"""Package data of Descent Lab: the language files (``i18n/<lang>.toml``) that
``texts.t`` reads, and the app's icon. A package so that ``pip install .`` carries them."""
