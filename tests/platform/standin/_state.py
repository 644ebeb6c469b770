"""In-memory state of the stand-in platform: users, images, chutes, keys, requests.

Ids follow the platform's rules (CHUTES_API.md §2):
image_id = uuid5(OID, "{username}/{name}:{tag}".lower()),
chute_id = uuid5(OID, "{username}::chute::{name}"),
version = uuid5(OID, "{image_id}:{patch_version}:{code}").
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FINISHED = ("built and pushed", "error")


def image_id_for(username: str, name: str, tag: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{username}/{name}:{tag}".lower()))


def chute_id_for(username: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{username}::chute::{name}"))


def version_for(image_id: str, patch_version: str, code: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{image_id}:{patch_version}:{code}"))


@dataclass
class User:
    user_id: str
    username: str
    hotkey: str
    coldkey: str = ""
    balance: float = 1000.0
    free_account: bool = False
    unlimited_dev: bool = False
    public_deploy: bool = False
    payment_address: str = field(default_factory=lambda: "5Pay" + secrets.token_hex(20))

    def public(self) -> dict[str, Any]:
        perms = (1 << 11) if self.public_deploy else 0
        return {
            "user_id": self.user_id,
            "username": self.username,
            "hotkey": self.hotkey,
            "coldkey": self.coldkey,
            "payment_address": self.payment_address,
            "balance": self.balance,
            "permissions_bitmask": perms,
            "permissions": ["Allow deploying models publicly."] if self.public_deploy else [],
        }


@dataclass
class ImageRow:
    image_id: str
    user_id: str
    username: str
    name: str
    tag: str
    readme: str
    public: bool
    logo_id: str | None
    dockerfile: str
    context_zip: bytes
    description: str
    status: str = "pending build"
    patch_version: str = "initial"
    chutes_version: str = "0.6.9"
    created_at: float = field(default_factory=time.time)
    events: list[tuple[int, int, str, str]] = field(default_factory=list)
    log_text: list[str] = field(default_factory=list)

    def response(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "user_id": self.user_id,
            "name": self.name,
            "tag": self.tag,
            "readme": self.readme,
            "public": self.public,
            "logo_id": self.logo_id,
            "status": self.status,
            "patch_version": self.patch_version,
            "chutes_version": self.chutes_version,
            "short_tag": f"{self.username}/{self.name}:{self.tag}",
            "user": {"user_id": self.user_id, "username": self.username},
            "created_at": self.created_at,
        }

    @property
    def finished(self) -> bool:
        return self.status.startswith(FINISHED)


@dataclass
class LogoRow:
    """One uploaded logo (the real server converts it to WebP; the stand-in keeps it)."""

    logo_id: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0


class StandInState:
    """Everything the stand-in knows. Tests read and tweak it directly."""

    def __init__(
        self,
        *,
        build_mode: str | Callable[[StandInState, ImageRow], None] = "immediate",
        clock: Callable[[], float] = time.time,
        keepalive: float = 0.02,
        warmup_cold_events: int = 2,
        registration_token: str = "replaceme",
    ) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.images: dict[str, ImageRow] = {}
        self.chutes: dict[str, dict[str, Any]] = {}
        self.logos: dict[str, LogoRow] = {}
        self.shares: set[tuple[str, str]] = set()
        self.api_keys: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self.secrets: dict[str, dict[str, Any]] = {}
        #: invocation_id -> user_id of the caller (the parent invocations a user made)
        self.invocations: dict[str, str] = {}
        self.reports: dict[str, str] = {}
        self.login_nonces: dict[str, bool] = {}  # nonce -> used
        #: chute_id -> [{"instance_id", "ephemeral_pubkey", "started_at", ..., "_chunks"}]
        self.startup_logs: dict[str, list[dict[str, Any]]] = {}
        self.instance_logs: dict[str, list[str]] = {}  # instance_id -> lines
        self.warmup_barrier = 0  # see Routes._all_warming
        self.warmups_started = 0
        self.build_mode = build_mode
        self.clock = clock
        self.keepalive = keepalive
        self.warmup_cold_events = warmup_cold_events
        self.registration_token = registration_token
        self._seq = 0

    # -- users ---------------------------------------------------------------------------

    def add_user(self, username: str, hotkey: str, **kwargs: Any) -> User:
        user = User(user_id=str(uuid.uuid4()), username=username, hotkey=hotkey, **kwargs)
        with self.lock:
            self.users[user.user_id] = user
        return user

    def user_by_hotkey(self, hotkey: str) -> User | None:
        return next((u for u in self.users.values() if u.hotkey == hotkey), None)

    def user_by_id_or_name(self, value: str) -> User | None:
        return next((u for u in self.users.values() if value in (u.user_id, u.username)), None)

    # -- images ----------------------------------------------------------------------------

    def find_image(self, user: User, ref: str) -> ImageRow | None:
        with self.lock:
            if ref in self.images:
                row = self.images[ref]
                return row if row.user_id == user.user_id or row.public else None
            owner, _, rest = ref.rpartition("/")
            name, _, tag = rest.partition(":")
            for row in self.images.values():
                if (row.name.lower(), row.tag.lower()) != (name.lower(), tag.lower()):
                    continue
                if owner and row.username.lower() != owner.lower():
                    continue
                if row.user_id == user.user_id or row.public:
                    return row
        return None

    def emit_log(self, image_id: str, line: str, log_type: str = "stdout") -> None:
        """Append one build log line (as the forge's Redis stream would)."""
        with self.lock:
            row = self.images[image_id]
            self._seq += 1
            row.events.append((int(self.clock() * 1000), self._seq, log_type, line))
            row.log_text.append(line)

    def finish_build(self, image_id: str, status: str = "built and pushed") -> None:
        with self.lock:
            self.images[image_id].status = status

    def start_build(self, row: ImageRow) -> None:
        mode = self.build_mode
        if mode == "manual":
            return
        if mode == "immediate":
            self.finish_immediately(row)
            return
        threading.Thread(target=mode, args=(self, row), daemon=True).start()

    def finish_immediately(self, row: ImageRow) -> None:
        with self.lock:
            row.status = "building"
            for line in row.dockerfile.splitlines():
                self.emit_log(row.image_id, f"STEP: {line}")
            row.status = "built and pushed"

    # -- chutes ------------------------------------------------------------------------------

    def find_chute(self, user: User, ref: str, *, owned: bool = False) -> dict | None:
        with self.lock:
            for chute in self.chutes.values():
                if ref not in (chute["chute_id"], chute["name"]):
                    continue
                mine = chute["user_id"] == user.user_id
                if owned and not mine:
                    continue
                if mine or chute["public"] or (chute["chute_id"], user.user_id) in self.shares:
                    return chute
        return None
