"""JSON request bodies, refusing an object that names a key twice.

Python's json keeps the last of two equal keys, so `{"nik": A, ..., "nik": B}` would act on
B while a reviewer of the request reads A. Like a file with a repeated column, such a body is
refused whole with the same stable code (`duplicate_columns`)."""

import codecs
from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

from stakeholders.api import errors

# Key names quoted back in the message, each cut short: they are the client's own text.
_SHOWN_KEYS = 5
_KEY_LENGTH = 40


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _value in pairs:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    if repeated:
        raise errors.DuplicateKeys(
            errors.DuplicateKeys.default_detail
            % {"keys": ", ".join(key[:_KEY_LENGTH] for key in repeated[:_SHOWN_KEYS])}
        )
    return dict(pairs)


class UniqueKeyJSONParser(JSONParser):
    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            decoded_stream = codecs.getreader(encoding)(stream)
            parse_constant = json.strict_constant if self.strict else None
            return json.load(
                decoded_stream, parse_constant=parse_constant, object_pairs_hook=_unique_pairs
            )
        except ValueError as exc:
            raise ParseError(str(exc)) from None
