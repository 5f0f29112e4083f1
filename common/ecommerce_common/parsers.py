"""The JSON parser every service uses: DRF's, with nesting too deep to decode answered as 400,
and so is text no UTF-8 can carry (a lone surrogate, which JSON can spell as ``"\\ud800"``)."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # json.loads raises RecursionError (not ValueError) on e.g. 100k nested arrays.
            raise exceptions.ParseError("JSON parse error - nesting too deep.") from exc
        try:
            # A lone surrogate in any key or string fails here, not later in a database driver
            # or in rendering an error message that quotes it (both were 500s).
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise exceptions.ParseError(
                "JSON parse error - a string holds a lone surrogate, which is not text."
            ) from exc
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nesting too deep.") from exc
        return data
