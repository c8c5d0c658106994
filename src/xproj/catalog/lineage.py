"""Lineage of a run: what it read (with fingerprints), which code and models made it, what it wrote.

A :class:`RunRecord` becomes one row of the ``runs`` table when the lake commits the run's outputs.
Its ``run_key`` is a stable hash of the flow, its parameters and its inputs' content fingerprints
(never of how a path was spelled): two runs with the same key would produce the same data, so the
executor can skip a completed identical run (``Lake.find_run``) and resume a crashed one from its
staged shards (``Staging``). The record keeps each input's path as given, for lineage.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import os
import subprocess
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from xproj.schemas.errors import E_BAD_CONFIG, E_FILE_NOT_FOUND, ConfigError, InputFormatError

if TYPE_CHECKING:
    from xproj.schemas.tables import RunRow

_CHUNK = 1 << 20
_REPO = Path(__file__).resolve().parents[3]  # src/xproj/catalog/lineage.py → the checkout


@dataclass(frozen=True, slots=True)
class InputRef:
    """One input of a run.

    Attributes:
        name: the role of the input in the flow (``source``, ``gold``, ``bitext`` …).
        ref: a file or folder path, a dataset id, or a lake table name.
        version: the lake table version read, for table inputs.
        sha256: the content fingerprint, for file and folder inputs.
    """

    name: str
    ref: str
    version: int | None = None
    sha256: str | None = None

    @classmethod
    def for_file(cls, name: str, path: str | os.PathLike[str]) -> InputRef:
        """An input file or folder, fingerprinted with :func:`file_fingerprint`."""
        return cls(name, str(path), None, file_fingerprint(path))

    def identity(self) -> dict[str, Any]:
        """What identifies the input's content in a run key: its fingerprint or table version
        when it has one (so the same file named two ways is one input), else its reference."""
        if self.sha256 is not None or self.version is not None:
            return {"name": self.name, "version": self.version, "sha256": self.sha256}
        return {"name": self.name, "ref": self.ref}


def path_ref(name: str, path: str | os.PathLike[str]) -> InputRef:
    """Lineage reference of a path: a file's or folder's fingerprint, else the text as given
    (a Hub dataset or model id)."""
    return InputRef.for_file(name, path) if Path(path).exists() else InputRef(name, str(path))


@dataclass(frozen=True, slots=True)
class OutputRef:
    """One output of a committed run: the table version it made (None when it wrote no rows)."""

    table: str
    version: int | None
    rows: int


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, or of a folder's files (relative names and contents).

    Files are read in 1 MiB chunks, so memory stays flat for large inputs.

    Raises:
        InputFormatError: XP110 when the path does not exist.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> _ = p.write_text("abc")
        >>> file_fingerprint(p)[:12]
        'ba7816bf8f01'
    """
    p = Path(path)
    if p.is_file():
        return _hash_file(p, hashlib.sha256()).hexdigest()
    if p.is_dir():
        digest = hashlib.sha256()
        for child in sorted(c for c in p.rglob("*") if c.is_file()):
            digest.update(child.relative_to(p).as_posix().encode() + b"\0")
            digest.update(_hash_file(child, hashlib.sha256()).digest())
        return digest.hexdigest()
    raise InputFormatError(
        "input does not exist.",
        fix="check the path (relative paths are resolved from the working directory).",
        file=str(p),
        code=E_FILE_NOT_FOUND,
    )


def _hash_file(path: Path, digest: Any) -> Any:
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version and, when the code sits in a git checkout, its ``git describe``.

    Never raises: without git or outside a checkout the git part is ``git unknown``.

    Example:
        >>> code_version().startswith("xproj ")
        True
    """
    try:
        package = metadata.version("xproj")
    except metadata.PackageNotFoundError:
        package = "unknown"
    try:
        proc = subprocess.run(
            ["git", "-C", str(_REPO), "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        described = proc.stdout.strip() if proc.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        described = ""
    return f"xproj {package} (git {described or 'unknown'})"


def _canonical(value: Any, where: str) -> Any:
    """A JSON-ready, order-stable form of a parameter value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, enum.Enum):
        return _canonical(value.value, where)
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v, f"{where}.{k}") for k, v in sorted(value.items(), key=str)}
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v, where) for v in value), key=json.dumps)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return [_canonical(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _canonical(dataclasses.asdict(value), where)
    if hasattr(value, "model_dump"):  # pydantic models, without importing pydantic here
        return _canonical(value.model_dump(mode="json"), where)
    raise ConfigError(
        f"parameter {where} has type {type(value).__name__}, which cannot be stored as JSON.",
        fix="pass plain values (str, numbers, lists, dicts, paths, enums, dataclasses, pydantic).",
        code=E_BAD_CONFIG,
    )


def to_json(value: Mapping[str, Any], where: str = "parameters") -> str:
    """Canonical JSON (sorted keys, no NaN) of a parameter, metric or timing mapping."""
    return json.dumps(_canonical(dict(value), where), sort_keys=True, ensure_ascii=False)


def make_run_key(flow: str, params: Mapping[str, Any], inputs: Iterable[InputRef]) -> str:
    """A stable hash of what determines a run's output: flow, parameters, input fingerprints.

    Input order does not matter; an input's name and content (:meth:`InputRef.identity`) do,
    how its path was spelled does not.

    Example:
        >>> a = make_run_key("project", {"k": 1, "langs": ["de"]}, [InputRef("src", "a.conll")])
        >>> a == make_run_key("project", {"langs": ["de"], "k": 1}, [InputRef("src", "a.conll")])
        True
        >>> a == make_run_key("project", {"k": 2, "langs": ["de"]}, [InputRef("src", "a.conll")])
        False
        >>> make_run_key("p", {}, [InputRef("src", "a.conll", None, "ab")]) == make_run_key(
        ...     "p", {}, [InputRef("src", "/data/a.conll", None, "ab")])
        True
    """
    payload = {
        "flow": flow,
        "parameters": _canonical(dict(params), "parameters"),
        "inputs": sorted(
            (i.identity() for i in inputs), key=lambda r: json.dumps(r, sort_keys=True)
        ),
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class RunRecord:
    """Lineage of one flow run; committed as a row of ``runs`` together with the run's outputs.

    Build it with :meth:`start` at the beginning of a flow, fill ``metrics``/``timings`` as the
    run goes, and hand it to ``Lake.commit``. ``outputs`` is filled by the lake when it commits
    (and when a record is read back by ``Lake.find_run``).

    Example:
        >>> run = RunRecord.start("project", {"method": "align.v1"}, [InputRef("src", "a.conll")])
        >>> len(run.run_id), run.status
        (32, 'running')
    """

    flow: str
    run_key: str
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: list[InputRef] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    code_version: str = field(default_factory=code_version)
    aligner: str | None = None
    models: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    started_at: datetime = field(default_factory=_now)
    finished_at: datetime | None = None
    status: str = "running"
    outputs: list[OutputRef] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        flow: str,
        parameters: Mapping[str, Any],
        inputs: Sequence[InputRef] = (),
        *,
        aligner: str | None = None,
        models: Sequence[str] = (),
        key_parameters: Mapping[str, Any] | None = None,
    ) -> RunRecord:
        """A new running record whose ``run_key`` is :func:`make_run_key` of its arguments.

        ``key_parameters`` (default ``parameters``) are the parameters that go into the key when
        the recorded ones hold more (paths as given, for lineage).
        """
        return cls(
            flow=flow,
            run_key=make_run_key(
                flow, parameters if key_parameters is None else key_parameters, inputs
            ),
            parameters=dict(parameters),
            inputs=list(inputs),
            aligner=aligner,
            models=list(models),
        )

    def finish(self, status: str = "ok") -> RunRecord:
        """Mark the run finished now with ``status`` (``ok`` or ``failed``); returns self."""
        self.status = status
        self.finished_at = _now()
        return self

    def to_row(self, outputs: Sequence[OutputRef]) -> RunRow:
        """The ``runs`` row of this record with the given outputs."""
        from xproj.schemas.tables import RunRow

        return RunRow(
            run_id=self.run_id,
            run_key=self.run_key,
            flow=self.flow,
            status=self.status,
            started_at=self.started_at,
            finished_at=self.finished_at or _now(),
            parameters=to_json(self.parameters, "parameters"),
            code_version=self.code_version,
            inputs=list(self.inputs),
            outputs=list(outputs),
            aligner=self.aligner,
            models=list(self.models),
            metrics=to_json(self.metrics, "metrics"),
            timings=to_json(self.timings, "timings"),
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunRecord:
        """The record of a ``runs`` row (as returned by ``pa.Table.to_pylist``)."""
        return cls(
            flow=row["flow"],
            run_key=row["run_key"],
            parameters=json.loads(row["parameters"]),
            inputs=[InputRef(**i) for i in row["inputs"]],
            run_id=row["run_id"],
            code_version=row["code_version"],
            aligner=row["aligner"],
            models=list(row["models"]),
            metrics=json.loads(row["metrics"]),
            timings=json.loads(row["timings"]),
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            status=row["status"],
            outputs=[OutputRef(**o) for o in row["outputs"]],
        )


#: The shortest run id prefix accepted where a run id is asked for (cards and ``xproj versions``
#: show eight characters).
MIN_RUN_PREFIX = 6


def full_run_id(given: str, present: Iterable[str], where: str) -> str:
    """``given``, a run id or a unique prefix (at least :data:`MIN_RUN_PREFIX` characters) of
    one of ``present``, as the full id (unchanged when nothing matches: the caller says so).

    Raises:
        ConfigError: XP301 when the prefix matches several runs of ``where``.
    """
    from xproj.schemas.errors import E_BAD_CONFIG, ConfigError

    given, present = given.strip(), set(present)
    if given in present or len(given) < MIN_RUN_PREFIX:
        return given
    hits = sorted(r for r in present if r.startswith(given))
    if len(hits) > 1:
        raise ConfigError(
            f"run id prefix {given!r} matches {len(hits)} runs in {where}: {', '.join(hits)}.",
            fix="give more characters of the run id.",
            code=E_BAD_CONFIG,
        )
    return hits[0] if hits else given


def check_flow_run(lake: Any, run_id: str, flow: str) -> None:
    """Raise unless the lake holds a committed run ``run_id`` of ``flow``.

    Raises:
        CatalogError: the run belongs to another flow, or there is no such run (the message
            lists the flow's latest runs).
    """
    import pyarrow.compute as pc

    from xproj.schemas.errors import CatalogError

    runs = lake.read("runs", columns=["run_id", "flow", "status", "started_at"])
    if run_id in runs.filter(pc.field("flow") == flow).column("run_id").to_pylist():
        return
    other = runs.filter(pc.field("run_id") == run_id)
    if other.num_rows:
        raise CatalogError(
            f"run {run_id!r} is a {other.column('flow')[0].as_py()!r} run, not a {flow} run.",
            fix=f"give the run id that `xproj {flow}` printed.",
        )
    runs = runs.filter(pc.field("flow") == flow)
    recent = [
        r["run_id"]
        for r in sorted(runs.to_pylist(), key=lambda r: r["started_at"], reverse=True)[:5]
    ]
    raise CatalogError(
        f"no {flow} run {run_id!r} in lake {lake.root}"
        + (f"; latest {flow} runs: {', '.join(recent)}." if recent else "; it has none."),
        fix='list runs with: xproj query "SELECT run_id, started_at FROM runs WHERE flow = '
        f"'{flow}'\" (and check --lake).",
    )
