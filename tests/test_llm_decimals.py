"""The AI settings' decimals as the reader's language writes them: "0,3" in French."""

from __future__ import annotations

from .test_llm_admin import admin_url, form, row, text


def test_a_french_administrator_types_and_reads_decimals_with_a_comma(client, platform):
    admin = admin_url(platform, client)  # a French launch
    saved = client.post(admin + "admin/llm", data=form(provider="fake", temperature="0,3", timeout="12,5"))
    assert saved.status_code == 303, text(saved)
    assert (row().temperature, row().timeout) == (0.3, 12.5)
    page = text(client.get(admin + "admin/llm"))
    assert 'value="0,3"' in page and 'value="12,5"' in page
    assert 'inputmode="decimal"' in page  # a text field: a number field refuses "0,3"


def test_a_point_is_understood_too_and_english_reads_it(client, platform):
    admin = admin_url(platform, client)
    assert client.post(admin + "admin/llm", data=form(provider="fake", temperature="0.7")).status_code == 303
    assert row().temperature == 0.7
    english = admin_url(platform, client, locale="en-GB")
    assert 'value="0.7"' in text(client.get(english + "admin/llm"))
    refused = client.post(admin + "admin/llm", data=form(provider="fake", temperature="zéro virgule trois"))
    assert refused.status_code == 422 and 'data-error-for="temperature"' in text(refused)
