"""Run by the reference SDK's python (not by pytest): describe chute files as JSON.

Usage: ``python sdk_probe.py FILE.py [FILE.py ...]``. Each file is imported the
way the SDK's own CLI imports it: with the file's folder as the working
directory and first on ``sys.path``. Every module-level ``Image`` and ``Chute``
is described (Dockerfile text, uids, cords with their schemas, node selector);
an exception while importing is reported as the file's ``error``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback


def describe_cord(cord) -> dict:
    return {
        "path": cord.path,
        "passthrough_path": cord.passthrough_path,
        "public_api_path": cord.public_api_path,
        "public_api_method": cord._public_api_method,
        "method": cord._method,
        "stream": cord._stream,
        "passthrough": cord._passthrough,
        "function": cord._func.__name__,
        "input_schema": cord.input_schema,
        "minimal_input_schema": cord.minimal_input_schema,
        "output_schema": cord.output_schema,
        "output_content_type": cord.output_content_type,
    }


#: Chute attributes compared with chutes-build's (read with getattr on both sides).
CHUTE_ATTRIBUTES = (
    "tagline", "readme", "standard_template", "revision", "concurrency", "max_instances",
    "scaling_threshold", "shutdown_after_seconds", "allow_external_egress", "tee",
)  # fmt: skip


def describe(module) -> dict:
    from chutes.chute import Chute, ChutePack
    from chutes.image import Image

    images, chutes = {}, {}
    for attr, value in vars(module).items():
        if isinstance(value, ChutePack):
            value = value.chute
        if isinstance(value, Image):
            images[attr] = {"text": str(value), "uid": value.uid}
        elif isinstance(value, Chute):
            chutes[attr] = {
                "name": value.name,
                "uid": value.uid,
                "image": str(value.image) if isinstance(value.image, Image) else value.image,
                "image_uid": value.image.uid if isinstance(value.image, Image) else None,
                "node_selector": value.node_selector.model_dump() if value.node_selector else None,
                "cords": [describe_cord(c) for c in value.cords],
                "attributes": {name: getattr(value, name, None) for name in CHUTE_ATTRIBUTES},
            }
    return {"images": images, "chutes": chutes, "error": None}


def load(path: str) -> dict:
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    os.chdir(folder)
    sys.path.insert(0, folder)
    name = "sdk_probe_" + str(abs(hash(path)))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return describe(module)
    except BaseException as exc:  # noqa: BLE001 - report whatever the file raised
        return {
            "images": {},
            "chutes": {},
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    finally:
        sys.path.remove(folder)


def main() -> None:
    os.environ.pop("CHUTES_EXECUTION_CONTEXT", None)
    out = {path: load(path) for path in sys.argv[1:]}
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
