"""Stage 4, continuity between scenes (language 1.1 §4): which scene each
`FIRST FRAME after SCENE` names, with E210 (no scene of this file by that title or id) and
E211 (a cycle of them, reported once at the `FIRST FRAME` line of the scene that closes it,
the later one in file order).

A name matches a scene when its slug equals the scene's id; a scene whose title slugifies to
nothing (its id is `scene-N`) also matches its exact title, white space runs counted as one.
Only a scene's first `FIRST FRAME` counts (a second one is E309, reported by the checks).
Scenes of included files are not compiled, so they cannot be named.
"""

from __future__ import annotations

from collections.abc import Sequence

from shotc.diagnostics import Diagnostic, Problems
from shotc.language.checks import slug
from shotc.language.syntax import After, Frame, Scene

# a did-you-mean compares the name with every id; past this many ids the help lists none
_GUESS_LIMIT = 2000


def after_frame(scene: Scene) -> tuple[Frame, After] | None:
    """The scene's first `FIRST FRAME`, when it is an `after` one."""
    first = next((f for f in scene.frames if f.which == "first"), None)
    if first is None or not isinstance(first.reference, After):
        return None
    return first, first.reference


def resolve_after(scenes: Sequence[Scene], ids: Sequence[str], diags: Problems) -> dict[int, str]:
    """For each scene (by index) whose first frame comes after a scene that exists and is not
    in a cycle with it, the id of that scene. `ids` are the scenes' ids, in file order."""
    by_id: dict[str, int] = {}
    by_title: dict[str, int] = {}
    for position, (scene, scene_id) in enumerate(zip(scenes, ids, strict=True)):
        by_id.setdefault(scene_id, position)
        if not slug(scene.title):
            by_title.setdefault(" ".join(scene.title.split()), position)
    edges: dict[int, int] = {}  # position -> the position of the scene it comes after
    for position, scene in enumerate(scenes):
        found = after_frame(scene)
        if found is None:
            continue
        _frame, after = found
        name_slug = slug(after.name)
        target = by_id.get(name_slug) if name_slug else by_title.get(after.name)
        if target is None:
            diags.append(_unknown(after, name_slug, ids))
        else:
            edges[position] = target
    closing = _cycles(edges, scenes, ids, diags)
    return {
        scenes[position].index: ids[target]
        for position, target in edges.items()
        if position not in closing
    }


def _unknown(after: After, name_slug: str, ids: Sequence[str]) -> Diagnostic:
    from shotc.suggest import did_you_mean

    options = list(dict.fromkeys(ids))
    guess = did_you_mean(name_slug or after.name, options) if len(options) <= _GUESS_LIMIT else None
    if guess is not None:
        help = f"did you mean `FIRST FRAME after {guess}`?"
    elif options and len(options) <= 5:
        help = "the scenes of this file: " + ", ".join(f"`{i}`" for i in options)
    else:
        help = "name a scene of this file by its title or its id"
    return Diagnostic(
        "E210", f"`FIRST FRAME after {after.name}`: no scene of this file", after.span, help
    )


def _cycles(
    edges: dict[int, int], scenes: Sequence[Scene], ids: Sequence[str], diags: Problems
) -> set[int]:
    """E211 once per cycle; the positions of the scenes that close one. Each scene comes after
    at most one other, so following the edges from a scene reaches at most one cycle."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    closing: set[int] = set()
    for start in edges:
        path: list[int] = []
        node: int | None = start
        while node is not None and node not in state:
            state[node] = 1
            path.append(node)
            node = edges.get(node)
        if node is not None and state[node] == 1:
            cycle = path[path.index(node) :]
            last = max(cycle)  # positions are in file order
            closing.add(last)
            at = cycle.index(last)
            chain = [ids[p] for p in cycle[at:] + cycle[:at]] + [ids[last]]
            frame, _after = after_frame(scenes[last]) or (None, None)
            assert frame is not None
            diags.add(
                "E211",
                "`FIRST FRAME after` makes a cycle: " + " after ".join(chain),
                frame.span,
                "a scene cannot start from its own clip; give it an image, or name another scene"
                if len(cycle) == 1
                else "each scene's first frame comes from a clip made before it; "
                "give one of these scenes an image instead",
            )
        for visited in path:
            state[visited] = 2
    return closing
