"""Issue 16: a plan's JSON is written row by row, byte for byte what one document prints."""

from __future__ import annotations

import pytest

from chutes_build.cli._graph import print_json, print_json_rows

ROWS = [{"key": "k1", "reasons": [], "chutes": ["é"], "outcome": None, "nested": {"a": [1, {}]}},
        {"key": "k2", "label": 'quote " and \\n newline'}]  # fmt: skip


@pytest.mark.parametrize("rows", [ROWS, []])
def test_issue_16_rows_written_one_by_one_print_what_the_whole_document_prints(rows, capsys):
    rest = {"summary": {"nodes": len(rows), "by_kind": {}}, "errors": [], "warnings": [{"w": 1}]}
    print_json({"nodes": rows, **rest})
    whole = capsys.readouterr().out
    print_json_rows({"nodes": iter(rows), **rest})
    assert capsys.readouterr().out == whole


def test_issue_16_an_empty_document_prints_as_one(capsys):
    print_json({})
    whole = capsys.readouterr().out
    print_json_rows({})
    assert capsys.readouterr().out == whole
