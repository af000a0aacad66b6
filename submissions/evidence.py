"""Evidence files: PDF, JPEG or PNG, recognised from their content, never from their name."""

import hashlib
import io
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from submissions.exceptions import InvalidEvidence

MAX_BYTES = 5 * 1024 * 1024
MAX_FILES = 5
_SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
]


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    extension: str
    sha256: str


def evidence_check(upload: UploadedFile) -> CheckedFile:  # type: ignore[type-arg]
    """Read and vet one upload; raises InvalidEvidence with a message for the user."""
    if upload.size is None or upload.size > MAX_BYTES:
        raise InvalidEvidence(_("Each evidence file may be at most 5 MB."))
    content = upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise InvalidEvidence(_("Each evidence file may be at most 5 MB."))
    if not content:
        raise InvalidEvidence(_("The evidence file is empty."))
    match = next((sig for sig in _SIGNATURES if content.startswith(sig[0])), None)
    if match is None:
        raise InvalidEvidence(_("Only PDF, JPEG or PNG files are accepted."))
    _signature, content_type, extension = match
    if content_type == "application/pdf":
        if b"%%EOF" not in content[-2048:]:
            raise InvalidEvidence(_("The PDF file is damaged or incomplete."))
    else:
        try:
            with Image.open(io.BytesIO(content)) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise InvalidEvidence(_("The image file is damaged or not a real image.")) from None
    return CheckedFile(
        content=content,
        content_type=content_type,
        extension=extension,
        sha256=hashlib.sha256(content).hexdigest(),
    )
