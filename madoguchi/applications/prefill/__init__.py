"""Prefill sources: what madoguchi already knows about the resident (once-only).

Each source is a plugin (``base.PrefillSource``) registered in ``registry.register``;
``services.application_start`` asks them in ``priority`` order for values keyed by the
prefill keys of ``forms/data/README.md`` (``resident.family_name`` …). A field takes
its value from the first source that has one, and the application remembers which
source that was, so the page can say where the value came from.
"""
