"""Development-only secrets, generated once into an untracked file, never committed."""

import base64
import json
import secrets
from pathlib import Path
from typing import Any

DEV_KEYS_FILE = ".dev-keys.json"


def development_keys(base_dir: Path) -> dict[str, Any]:
    path = base_dir / DEV_KEYS_FILE
    if path.exists():
        keys: dict[str, Any] = json.loads(path.read_text())
        return keys
    keys = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": [base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()],
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(keys, indent=2))
    path.chmod(0o600)
    return keys
