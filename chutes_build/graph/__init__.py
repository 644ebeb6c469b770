"""The build graph: compile chute files into content-keyed nodes, plan, explain, render.

``compile_workspace(workspace, paths, store)`` returns a :class:`BuildGraph` of typed
nodes (frozen msgspec structs tagged by ``kind``, see :mod:`._nodes`): ``graph.node(key)``
is a :class:`BaseNode`, :class:`LayerNode`, :class:`ImageNode` or :class:`DeployNode`;
``graph.keys()`` lists keys in build order and ``graph.nx`` is the same graph as a
``networkx.DiGraph`` (an edge ``a -> b``: ``b`` uses ``a``'s result). Every node has
``key``, ``kind``, ``label``, ``text``, ``deps`` (input keys, in order), ``after``
(nodes run first that are not inputs: a chute's runtime layer and logo), ``chutes``
(the chutes that use it) and ``names``; ``inputs_of(node)`` gives what ``why``
compares. ``graph.slots()`` says where each node sits (``deploy:user/name``,
``image:user/name:tag``, ``layer:user/name:tag#depth``), which is how a node is
matched with its predecessor in the last recorded run.

- ``base``: ``ref`` (the ``FROM`` reference after ``base_images`` substitution),
  ``requested`` (before it), ``line`` (``FROM ref``), ``parent`` = ``None``.
- ``layer``: ``parent``, ``line`` (the Dockerfile line to build with), ``instruction``,
  ``directive`` (as a dict), ``files`` (``{path, digest, mode}`` for a local ``add``:
  the builder places each file in the context at its workspace-relative ``path``).
- ``image``: ``username``, ``name``, ``tag``, ``uid``, ``readme``, ``top`` (key of the
  last layer), ``base``, ``logo``; ``graph.chain(key)`` lists the layers base-first
  and ``graph.dockerfile(key)`` joins their lines.
- ``runtime``: ``image`` (the image node it is built on); the local target runs chutes
  from it. ``logo``: ``path`` and ``digest``; the chutes target uploads it.
- ``deploy``: ``chute``, ``username``, ``uid``, ``file`` (workspace-relative), ``attr``,
  ``image`` (image node key, ``None`` for a prebuilt image), ``image_ref``, ``code``
  (``{path: digest}`` of the chute file and its local imports), ``code_digest``,
  ``definition`` (cords, node selector, settings), ``logo``.

A node is cached when ``store.read_action(key)`` reads a verified result; a deploy node
a target settled without running it (``needs-gpu``, ``prebuilt``) has the status
``outcome``, recorded under :func:`outcome_key` (its key and the target's conditions).
A builder stores each finished node's result with ``store.put_action(key, ActionResult(...))``
(only once the node fully succeeded) and, at the end of a run, records the
graph it ran with :func:`record_run`; :func:`plan` and :func:`explain` then
report cached and dirty nodes and name the cause.
"""

from ..workspace import ChuteSnapshot, FileSnapshot, ImageSnapshot
from ._compile import compile_snapshots, inputs_of
from ._evaluate import Evaluation, evaluate, evaluation_key
from ._graph import KINDS, BuildGraph
from ._keys import digest_of, node_key
from ._load import compile_workspace, evaluate_workspace
from ._nodes import (
    BaseNode,
    DeployNode,
    ImageNode,
    LayerNode,
    LogoNode,
    Node,
    NodeKind,
    RuntimeNode,
    logo_key,
    runtime_key,
)
from ._plan import (
    InputChange,
    NodePlan,
    Plan,
    RecordedGraph,
    explain,
    last_run,
    outcome_key,
    plan,
    record_run,
    result_key,
    runtime_result_key,
    used_by,
)
from ._render import FORMATS, node_dicts, render
from ._select import Picked, known_chute_names, select_files

__all__ = [
    "FORMATS",
    "KINDS",
    "BaseNode",
    "BuildGraph",
    "ChuteSnapshot",
    "DeployNode",
    "Evaluation",
    "FileSnapshot",
    "ImageNode",
    "ImageSnapshot",
    "InputChange",
    "LayerNode",
    "LogoNode",
    "Node",
    "NodeKind",
    "NodePlan",
    "Picked",
    "Plan",
    "RecordedGraph",
    "RuntimeNode",
    "compile_snapshots",
    "compile_workspace",
    "digest_of",
    "evaluate",
    "evaluate_workspace",
    "evaluation_key",
    "explain",
    "inputs_of",
    "known_chute_names",
    "last_run",
    "logo_key",
    "node_dicts",
    "node_key",
    "outcome_key",
    "plan",
    "record_run",
    "render",
    "result_key",
    "runtime_key",
    "runtime_result_key",
    "select_files",
    "used_by",
]
