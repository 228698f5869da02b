"""Payment-provider plugins: ``base.py`` (the contract), ``registry.py``, one module per provider."""
