"""Any query string a browser could send to the guide gets a page, a redirect or a
clear 400, never a server error."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=30)
KEYS = st.sampled_from(["date", "page", "a-from", "a-insurance", "a-household", "a-dog", "a-inkan", "a-x", "junk"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["ask/", "checklist/", "checklist/print/", "checklist.pdf", "checklist.ics"]),
    params=st.dictionaries(KEYS, TEXT),
)
def test_guide_pages_never_fail(client: Client, catalog: None, path: str, params: dict[str, str]) -> None:
    response = client.get(f"/guide/moving-in/{path}", params)
    assert response.status_code in (200, 302, 400), (path, params, response.status_code)
