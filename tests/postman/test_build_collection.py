"""postman/build_collection.py: the committed collection is what the generator writes."""

from __future__ import annotations

import pytest
from collection_builder import collection, scripts


def test_the_committed_collection_is_what_the_generator_writes():
    # A hand edit of the JSON that the generator does not make would be lost on the next build.
    assert collection.OUTPUT.read_text() == collection.render(), (
        "postman/ecommerce.postman_collection.json is out of date: "
        "run python3 postman/build_collection.py"
    )


def test_check_exits_0_when_the_json_is_up_to_date_and_1_when_it_is_not(
    tmp_path, monkeypatch, capsys
):
    output = tmp_path / "ecommerce.postman_collection.json"
    monkeypatch.setattr(collection, "OUTPUT", output)

    assert collection.main(["--check"]) == 1  # missing
    output.write_text(collection.render().replace("status is 201", "status is 200", 1))
    assert collection.main(["--check"]) == 1  # edited by hand
    assert "out of date" in capsys.readouterr().out
    assert collection.main([]) == 0
    assert collection.main(["--check"]) == 0


def _scripts(item: dict) -> list[str]:
    found = ["\n".join(event["script"]["exec"]) for event in item.get("event", [])]
    for child in item.get("item", []):
        found += _scripts(child)
    return found


def test_every_placeholder_of_the_shared_javascript_is_filled():
    texts = _scripts(collection.collection())

    assert texts
    left = [text for text in texts if scripts.PLACEHOLDER.search(text)]
    assert left == []


def test_a_snippet_without_a_value_for_its_placeholder_is_an_error():
    with pytest.raises(KeyError, match="code"):
        scripts.snippet("status")
    assert scripts.status(404) == (
        'pm.test("status is 404", () => pm.response.to.have.status(404));'
    )
