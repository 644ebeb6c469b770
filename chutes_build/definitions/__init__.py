"""What a chute is: ``Image`` and its directives, ``Chute``, ``Cord``, ``Job``, ``NodeSelector``.

Plain, immutable data with the ``chutes`` SDK's names and methods, plus the
rules they check (validation, RUN text, logos, the files an ``add()`` selects)
and the JSON Schemas of cords. Importing it stays cheap (no networkx, trio or
httpx): the same classes are imported inside built images.
"""

from ._chute import Chute, ChutePack, Cord, Hook, Job
from ._context import workspace_root
from ._directives import (
    Add,
    AptInstall,
    AptRemove,
    AptUpdate,
    Directive,
    Entrypoint,
    Env,
    From,
    Maintainer,
    Run,
    User,
    Workdir,
)
from ._files import (
    ChangedWhileBuilding,
    SelectionCache,
    folder_states,
    is_within,
    read_ignore_patterns,
    select_files,
    settled,
    states_hold,
    using_selections,
)
from ._image import DEFAULT_BASE_IMAGE, Image, make_add
from ._logo import logo_content_type
from ._node_selector import GPUS, NodeSelector
from ._schema import is_pydantic_model
from ._validate import apt_packages

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "GPUS",
    "Add",
    "AptInstall",
    "AptRemove",
    "AptUpdate",
    "ChangedWhileBuilding",
    "Chute",
    "ChutePack",
    "Cord",
    "Directive",
    "Entrypoint",
    "Env",
    "From",
    "Hook",
    "Image",
    "Job",
    "Maintainer",
    "NodeSelector",
    "Run",
    "SelectionCache",
    "User",
    "Workdir",
    "apt_packages",
    "folder_states",
    "is_pydantic_model",
    "is_within",
    "logo_content_type",
    "make_add",
    "read_ignore_patterns",
    "select_files",
    "settled",
    "states_hold",
    "using_selections",
    "workspace_root",
]
