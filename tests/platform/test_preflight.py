"""Issue 14: ``up --target chutes`` deploys through the preflight checks (the image is
built on the platform, the account may deploy public chutes), against the stand-in:
a refused check stops the deploy before ``POST /chutes/``."""

from __future__ import annotations

import json
import re

from tests.chutes_target._workspace import PREBUILT, posts
from tests.platform.standin._state import ImageRow

from .test_history import ws  # noqa: F401  (the ws fixture)


def _failed(result) -> str:
    assert result.returncode != 0, result.stdout[-2000:]
    summary = json.loads(result.stdout.splitlines()[-1])["summary"]
    (failure,) = summary["failed"]
    return failure["error"]


def test_issue_14_a_public_chute_needs_the_accounts_permission(ws, standin):  # noqa: F811
    result = ws("up", "chutes/alpha.py", "--target", "chutes", "--json", "--accept-fee",
                "--public")  # fmt: skip
    error = _failed(result)
    assert re.match(r"^chute alpha \(chutes/alpha\.py\): this account may not deploy public "
                    r"chutes", error), error  # fmt: skip
    assert "chutes-build share CHUTE --user USER" in error
    assert posts(standin, "/images/") == 1 and posts(standin, "/chutes/") == 0


def test_issue_14_public_deploy_goes_through_with_the_permission(ws, standin):  # noqa: F811
    for user in standin.state.users.values():
        user.public_deploy = True
    result = ws("up", "chutes/alpha.py", "--target", "chutes", "--json", "--accept-fee",
                "--public")  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    assert posts(standin, "/chutes/") == 1
    checked = [r.path for r in standin.state.requests if r.method == "GET"]
    assert "/users/me" in checked, checked  # the permission was asked for


def test_issue_14_a_prebuilt_image_missing_on_the_platform_is_not_deployed(ws, standin):  # noqa: F811
    (ws.root / "chutes" / "gamma.py").write_text(PREBUILT)
    error = _failed(ws("up", "chutes/gamma.py", "--target", "chutes", "--json", "--accept-fee"))
    assert re.match(r"^chute gamma \(chutes/gamma\.py\): chute 'gamma': its image "
                    r"alice/base:1\.0 does not exist on the platform", error), error  # fmt: skip
    assert "build the image first" in error
    assert posts(standin, "/chutes/") == 0


def test_issue_14_a_prebuilt_image_still_building_is_not_deployed(ws, standin):  # noqa: F811
    for n, user in enumerate(standin.state.users.values()):  # whichever alice signs in
        standin.state.images[f"pre{n}"] = ImageRow(
            f"pre{n}", user.user_id, user.username, "base", "1.0", "", False, None, "FROM x",
            b"", "", status="building")  # fmt: skip
    (ws.root / "chutes" / "gamma.py").write_text(PREBUILT)
    error = _failed(ws("up", "chutes/gamma.py", "--target", "chutes", "--json", "--accept-fee"))
    assert re.search(r"its image alice/base:1\.0 has status 'building' on the platform", error)
    assert posts(standin, "/chutes/") == 0
