"""The production static files storage: hashed names from the manifest, each URL worked out once."""

import json

import pytest
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

from consultation.storage import StaticFilesStorage


@pytest.fixture
def storage(tmp_path, settings):
    settings.STATIC_URL = "/static/"
    manifest = {"version": "1.1", "hash": "h", "paths": {"css/site.css": "css/site.0123456789ab.css"}}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return StaticFilesStorage(location=tmp_path, base_url="/static/")


def test_a_files_url_is_its_hashed_name_looked_up_once(storage, monkeypatch):
    lookups = []
    original = ManifestStaticFilesStorage.url

    def counting(self, name, force=False):
        lookups.append(name)
        return original(self, name, force)

    monkeypatch.setattr(ManifestStaticFilesStorage, "url", counting)
    assert storage.url("css/site.css") == "/static/css/site.0123456789ab.css"
    assert storage.url("css/site.css") == "/static/css/site.0123456789ab.css"
    assert lookups == ["css/site.css"]


def test_a_file_missing_from_the_manifest_fails_every_time(storage):
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("js/missing.js")
