"""Uploaded photos lose their EXIF (location, camera, time) before they are stored; a
file that only claims to be a photo is refused and not stored."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from madoguchi.applications.services import application_start, application_store_file
from madoguchi.core.models import User
from madoguchi.forms.fields import registry as field_types

FIELD: dict[str, Any] = {
    "key": "photo",
    "type": "file",
    "label": "写真",
    "accept": ["image/jpeg", "image/png", ".jpg", ".png"],
    "max_bytes": 5_000_000,
}
GPS_IFD = 0x8825


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "DemoCamera"  # Make
    exif[0x0132] = "2026:11:23 10:00:00"  # DateTime
    exif[GPS_IFD] = {1: "N", 2: (35.0, 41.0, 0.0), 3: "E", 4: (139.0, 45.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_photo_is_stored_without_exif(hanako: User, free_juminhyo: None, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    original = _jpeg_with_exif()
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif().get(0x010F) == "DemoCamera"  # the test photo does carry EXIF
    application, _ = application_start(applicant=hanako, procedure_code="juminhyo-copy")
    upload = SimpleUploadedFile("photo.jpg", original, content_type="image/jpeg")
    meta = application_store_file(application=application, field=FIELD, upload=upload)
    stored = default_storage.open(meta["id"]).read()
    assert b"DemoCamera" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (40, 30) and not image.getexif()
    field_types.get("file").clean(meta, FIELD, "ja")  # still a valid attachment


def test_fake_photo_is_refused_and_not_stored(hanako: User, free_juminhyo: None, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    application, _ = application_start(applicant=hanako, procedure_code="juminhyo-copy")
    upload = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    meta = application_store_file(application=application, field=FIELD, upload=upload)
    assert "id" not in meta
    assert not any(tmp_path.rglob("*.jpg"))
    try:
        field_types.get("file").clean(meta, FIELD, "ja")
    except Exception as exc:  # noqa: BLE001 - the field's ValidationError
        assert "この種類のファイルは添付できません" in str(exc)
    else:
        raise AssertionError("a fake photo must be refused")


def test_attachment_is_served_to_the_applicant_only(
    hanako: User, ichiro: User, free_juminhyo: None, settings: Any, tmp_path: Any, client: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    application, _ = application_start(applicant=hanako, procedure_code="juminhyo-copy")
    upload = SimpleUploadedFile("委任状.png", _png(), content_type="image/png")
    meta = application_store_file(application=application, field=FIELD, upload=upload)
    application.data = {**application.data, "power_of_attorney": meta}
    application.save(update_fields=["data"])
    url = f"/applications/{application.public_id}/files/power_of_attorney/"

    client.force_login(hanako)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert "attachment;" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(f"/applications/{application.public_id}/files/no_such_field/").status_code == 404

    client.force_login(ichiro)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()
