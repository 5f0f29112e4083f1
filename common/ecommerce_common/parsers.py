"""The JSON parser every service uses: DRF's, with nesting too deep to decode answered as 400."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # json.loads raises RecursionError (not ValueError) on e.g. 100k nested arrays.
            raise exceptions.ParseError("JSON parse error - nesting too deep.") from exc
