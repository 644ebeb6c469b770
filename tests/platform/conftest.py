"""Fixtures for the platform tests: keys, the stand-in platform on real HTTP, clients."""

from __future__ import annotations

import pytest

from chutes_build import Chute, Image, NodeSelector
from chutes_build.platform import ChutesClient, PlatformSettings, Signer

from .standin import StandInState, running_standin

ALICE_SEED = "11" * 32
BOB_SEED = "22" * 32


@pytest.fixture(scope="session")
def alice_signer() -> Signer:
    return Signer(ALICE_SEED)


@pytest.fixture(scope="session")
def bob_signer() -> Signer:
    return Signer(BOB_SEED)


@pytest.fixture
def standin(alice_signer, bob_signer):
    state = StandInState()
    state.add_user("alice", alice_signer.ss58_address)
    state.add_user("bob", bob_signer.ss58_address)
    with running_standin(state) as server:
        yield server


def settings_for(
    standin, username: str = "alice", seed: str = ALICE_SEED, **kw
) -> PlatformSettings:
    user = next(u for u in standin.state.users.values() if u.username == username)
    return PlatformSettings(
        base_url=standin.url,
        user_id=user.user_id,
        username=username,
        hotkey_seed=seed,
        hotkey_name="default",
        hotkey_ss58address=user.hotkey,
        **kw,
    )


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(standin, sleeps):
    async with ChutesClient(settings_for(standin), sleep=sleeps) as c:
        yield c


def make_chute(name: str = "echo-chute", image: Image | str | None = None, **kwargs) -> Chute:
    image = (
        image
        if image is not None
        else (Image(username="alice", name="echo", tag="1.0").apt_install(["git"]))
    )
    chute = Chute(
        username="alice",
        name=name,
        image=image,
        node_selector=kwargs.pop("node_selector", NodeSelector(gpu_count=1)),
        **kwargs,
    )

    @chute.cord()
    async def echo(self, text: str) -> str:
        return text

    return chute


CHUTE_CODE = "from chutes_build import Chute\nchute = None\n"
