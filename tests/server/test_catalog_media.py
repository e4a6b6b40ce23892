"""Product media: multipart upload into the storage, size and MIME checks, serving, delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.catalog.media_storage import LocalMediaStorage
from tests.server.catalog_factories import create_product

Auth = Callable[[str, str], dict[str, str]]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def storage(app: FastAPI, tmp_path: Path) -> Iterator[LocalMediaStorage]:
    store = LocalMediaStorage(tmp_path / "media", max_bytes=1024)
    app.state.media_storage = store
    yield store


def _files(storage: LocalMediaStorage) -> list[Path]:
    return sorted(p for p in storage.root.rglob("*") if p.is_file())


def test_upload_serve_feature_and_delete(
    client: TestClient, auth: Auth, storage: LocalMediaStorage
) -> None:
    h = auth("a", "owner")
    p = create_product(client, h, "Lamp", "LAMP-1")
    url = f"/api/v1/products/{p['id']}/media"
    r = client.post(url, files={"file": ("lamp.png", PNG, "image/png")},
                    data={"alt_text": "A lamp"}, headers=h)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["mime_type"] == "image/png" and first["size"] == len(PNG)
    assert first["is_featured"] and first["alt_text"] == "A lamp"
    got = client.get(first["url"], headers=h)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    r = client.post(url, files={"file": ("lamp.jpg", JPEG, "image/jpeg")},
                    data={"is_featured": "true"}, headers=h)
    second = r.json()
    assert second["is_featured"] and second["display_order"] == 1
    listed = client.get(url, headers=h).json()
    assert [(m["id"], m["is_featured"]) for m in listed] == [(first["id"], False),
                                                             (second["id"], True)]
    r = client.patch(f"{url}/{first['id']}", json={"display_order": 5, "alt_text": "Lit"},
                     headers=h)
    assert r.json()["display_order"] == 5 and r.json()["alt_text"] == "Lit"
    assert len(_files(storage)) == 2
    assert client.delete(f"{url}/{second['id']}", headers=h).status_code == 204
    assert len(_files(storage)) == 1
    assert client.get(second["url"], headers=h).status_code == 404
    detail = client.get(f"/api/v1/products/{p['id']}", headers=h).json()
    assert [m["id"] for m in detail["media"]] == [first["id"]]


def test_size_and_type_are_checked_with_clear_errors(
    client: TestClient, auth: Auth, storage: LocalMediaStorage
) -> None:
    h = auth("a", "owner")
    url = f"/api/v1/products/{create_product(client, h, 'Lamp', 'L-1')['id']}/media"
    big = PNG + b"\x00" * 2000
    r = client.post(url, files={"file": ("big.png", big, "image/png")}, headers=h)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert "1 KB" in r.json()["detail"] and r.json()["max_bytes"] == 1024
    r = client.post(url, files={"file": ("notes.txt", b"hello", "text/plain")}, headers=h)
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    assert "image/png" in r.json()["detail"] and "text/plain" in r.json()["detail"]
    r = client.post(url, files={"file": ("fake.png", JPEG, "image/png")}, headers=h)
    assert r.status_code == 415 and "image/jpeg" in r.json()["detail"]
    r = client.post(url, files={"file": ("empty.png", b"", "image/png")}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "empty_file"
    r = client.post(url, data={"alt_text": "no file"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert _files(storage) == []


def test_media_of_another_store_is_404_and_needs_write(
    client: TestClient, auth: Auth, storage: LocalMediaStorage
) -> None:
    a, b = auth("a", "owner"), auth("b", "owner")
    pb = create_product(client, b, "B lamp", "BL-1")
    url = f"/api/v1/products/{pb['id']}/media"
    mb = client.post(url, files={"file": ("b.png", PNG, "image/png")}, headers=b).json()
    r = client.post(url, files={"file": ("a.png", PNG, "image/png")}, headers=a)
    assert r.status_code == 404
    assert client.get(mb["url"], headers=a).status_code == 404
    assert client.delete(f"{url}/{mb['id']}", headers=a).status_code == 404
    assert len(_files(storage)) == 1
    pa = create_product(client, a, "A lamp", "AL-1")
    r = client.post(f"/api/v1/products/{pa['id']}/media",
                    files={"file": ("a.png", PNG, "image/png")}, headers=auth("a", "cashier"))
    assert r.status_code == 403
