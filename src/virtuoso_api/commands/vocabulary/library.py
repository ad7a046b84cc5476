"""``library``: reusable (library) checkpoints. Each subcommand parses into a typed intent."""

from __future__ import annotations

from dataclasses import dataclass

from virtuoso_api.commands.vocabulary.spec import Arg, Group, Intent, Values
from virtuoso_api.commands.vocabulary.validate import CHECKPOINT_ID, ID, LIBRARY_ID, NAME, integer

LIBRARY = Group("library", "library", "Share checkpoints through the library")

_LIB = Arg("library-id", LIBRARY_ID, "the library checkpoint (lib_ prefix optional)")
_STEP = Arg("step-id", ID, "the step")


@dataclass(frozen=True, slots=True)
class AddToLibrary(Intent):
    """Copy a checkpoint into the library."""

    checkpoint_id: int


@dataclass(frozen=True, slots=True)
class GetLibraryCheckpoint(Intent):
    """Read a library checkpoint."""

    library_checkpoint_id: int


@dataclass(frozen=True, slots=True)
class RenameLibraryCheckpoint(Intent):
    """Rename a library checkpoint."""

    library_checkpoint_id: int
    name: str


@dataclass(frozen=True, slots=True)
class AttachLibraryCheckpoint(Intent):
    """Attach a library checkpoint to a journey at ``position`` (>= 2; 1 is the goal's navigation)."""

    journey_id: int
    library_checkpoint_id: int
    position: int


@dataclass(frozen=True, slots=True)
class MoveLibraryStep(Intent):
    """Move a step of a library checkpoint to ``position`` (1-based)."""

    library_checkpoint_id: int
    step_id: int
    position: int


@dataclass(frozen=True, slots=True)
class RemoveLibraryStep(Intent):
    """Remove a step from a library checkpoint."""

    library_checkpoint_id: int
    step_id: int


LibraryIntent = (
    AddToLibrary
    | GetLibraryCheckpoint
    | RenameLibraryCheckpoint
    | AttachLibraryCheckpoint
    | MoveLibraryStep
    | RemoveLibraryStep
)


@LIBRARY.define(
    "add",
    args=(Arg("checkpoint-id", CHECKPOINT_ID, "the checkpoint to share (cp_ prefix optional)"),),
    example=("add", "cp_1234"),
)
def add(values: Values) -> AddToLibrary:
    """Add a copy of a checkpoint to the library."""
    return AddToLibrary(values.number("checkpoint-id"))


@LIBRARY.define("get", args=(_LIB,), example=("get", "lib_77"))
def get(values: Values) -> GetLibraryCheckpoint:
    """Show a library checkpoint and its steps."""
    return GetLibraryCheckpoint(values.number("library-id"))


@LIBRARY.define(
    "update",
    args=(_LIB, Arg("name", NAME, "the new name")),
    example=("update", "77", "Log in as admin"),
)
def update(values: Values) -> RenameLibraryCheckpoint:
    """Rename a library checkpoint."""
    return RenameLibraryCheckpoint(values.number("library-id"), values.text("name"))


@LIBRARY.define(
    "attach",
    args=(
        Arg("journey-id", ID, "the journey"),
        _LIB,
        Arg("position", integer(2, name="N"), "checkpoint position in the journey, >= 2"),
    ),
    example=("attach", "501", "lib_77", "2"),
)
def attach(values: Values) -> AttachLibraryCheckpoint:
    """Attach a library checkpoint to a journey.

    POSITION must be >= 2: it goes to the same attach endpoint as create-checkpoint, where position 1
    is the goal's navigation checkpoint.
    """
    return AttachLibraryCheckpoint(
        values.number("journey-id"), values.number("library-id"), values.number("position")
    )


@LIBRARY.define(
    "move-step",
    args=(_LIB, _STEP, Arg("position", integer(1, name="N"), "the step's new 1-based position")),
    example=("move-step", "77", "9001", "1"),
)
def move_step(values: Values) -> MoveLibraryStep:
    """Move a step within a library checkpoint."""
    return MoveLibraryStep(values.number("library-id"), values.number("step-id"), values.number("position"))


@LIBRARY.define("remove-step", args=(_LIB, _STEP), example=("remove-step", "77", "9001"))
def remove_step(values: Values) -> RemoveLibraryStep:
    """Remove a step from a library checkpoint."""
    return RemoveLibraryStep(values.number("library-id"), values.number("step-id"))
