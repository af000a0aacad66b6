import re

import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse


def test_openapi_schema_validates_without_warnings(tmp_path) -> None:
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {
        "/api/v1/batches/",
        "/api/v1/batches/{batch_id}/",
        "/api/v1/roster-batches/",
        "/api/v1/residents/lookup/",
        "/api/v1/changes/",
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{webhook_id}/",
        "/api/v1/exports/residents.csv",
        "/api/v1/exports/residents.xlsx",
    } <= paths
    assert not any("nik" in path for path in paths)  # a NIK never travels in a URL
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_schema_is_served_without_a_key(client, db) -> None:
    response = client.get(reverse("api:schema"), {"format": "json"})

    assert response.status_code == 200
    assert response.json()["info"]["title"]


def test_docs_load_their_assets_from_this_site_under_the_csp(client, db) -> None:
    response = client.get(reverse("api:docs"))

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        assert source.startswith("/"), source  # no CDN
        path = source.split("?")[0]
        if path.startswith("/static/"):
            assert finders.find(path.removeprefix("/static/")), path
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "<script>" not in html  # every script is a file: no inline script under the CSP
    script = client.get(reverse("api:docs"), {"script": ""})
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
