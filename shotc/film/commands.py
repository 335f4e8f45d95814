"""Film stage: the bodies of `shotc cut`, `review` and `prune`, returning exit codes.

The click layer (`shotc/cli/film.py`) parses options and calls these. Exit codes are
`shotc.exits.ExitCode`: 0 ok; 1 the script has errors, or the cut has missing scenes (listed,
each with its state) and `--allow-missing` was not given; 4 local I/O (a clip that cannot be
read, a film that cannot be written or does not verify, the ledger); 130 after Ctrl-C.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from shotc.exits import ExitCode
from shotc.film.cut import CutEntry, CutReport
from shotc.film.media import FilmError
from shotc.film.script import CompiledScript, compile_script
from shotc.language.compiler import ScriptReadError
from shotc.run.errors import RunError
from shotc.run.signals import exit_code as signal_exit
from shotc.run.untrusted import json_safe, shown, terminal


@dataclass(frozen=True, slots=True)
class CutRequest:
    file: Path
    output: Path | None
    allow_missing: bool
    drafts: bool
    timeline: Path | None
    as_json: bool


def say(err: TextIO, text: str) -> None:
    err.write(terminal(text, keep_newlines=True) + "\n")
    err.flush()


def compiled_or_code(file: Path, err: TextIO) -> CompiledScript | int:
    """The compiled script, or an exit code (1 errors, 4 unreadable) with the diagnostics
    printed on `err`."""
    try:
        script = compile_script(file)
    except ScriptReadError as exc:
        say(err, f"error: {exc}")
        return ExitCode.IO
    if script.diagnostics:
        from shotc.render import render_diagnostics
        from shotc.terminal import use_colour

        err.write(render_diagnostics(list(script.diagnostics), use_colour(err)))
        err.flush()
    if not script.ok:
        say(err, "the script has errors: fix them first")
        return ExitCode.ERRORS
    return script


def film_aspect(script: CompiledScript) -> str | None:
    """The aspect the film is encoded to: the one most scenes ask for (the first in script
    order on a tie); None when no scene names one (the largest clip's own)."""
    counts = Counter(s.aspect_ratio for s in script.scenes if s.aspect_ratio)
    if not counts:
        return None
    best = max(counts.values())
    return next(a for a in (s.aspect_ratio for s in script.scenes) if a and counts[a] == best)


def default_output(file: Path) -> Path:
    return file.resolve().with_suffix(".mp4")


def _shown_path(path: Path | None) -> str:
    if path is None:
        return "-"
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _missing_lines(entries: Sequence[CutEntry]) -> list[str]:
    return [f"  {e.scene_id} ({e.title}): {e.state or 'no clip'}" for e in entries if e.missing]


def _summary_rows(entries: Sequence[CutEntry]) -> list[list[str]]:
    rows = []
    for i, e in enumerate(entries, start=1):
        if e.missing:
            rows.append([str(i), e.scene_id, "-", "-", f"slate ({e.state or 'no clip'})"])
            continue
        mode = f"{e.mode} (draft)" if e.draft else str(e.mode)
        rows.append([str(i), e.scene_id, str(e.take), mode, _shown_path(e.path)])
    return rows


def _table(headers: list[str], rows: list[list[str]]) -> str:
    cells = [headers, *[[shown(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )


def _entry_json(e: CutEntry) -> dict[str, Any]:
    return {
        "scene_id": e.scene_id,
        "title": e.title,
        "take": e.take,
        "mode": e.mode,
        "draft": e.draft,
        "task_id": e.task_id,
        "path": None if e.path is None else str(e.path),
        "missing": e.missing,
        "state": e.state,
    }


def cut(request: CutRequest, out: TextIO, err: TextIO) -> int:
    try:
        return _cut(request, out, err)
    except KeyboardInterrupt as exc:
        say(err, "interrupted: the previous film (if any) is untouched")
        return signal_exit(exc)


def _cut(request: CutRequest, out: TextIO, err: TextIO) -> int:
    from shotc.film.cut import MissingScenes, assemble
    from shotc.film.project import FilmProject

    if request.timeline is not None:
        from shotc.film.timeline import adapter_for

        try:
            adapter_for(request.timeline)
        except FilmError as exc:
            say(err, f"error: {exc}")
            return ExitCode.USAGE
    script = compiled_or_code(request.file, err)
    if isinstance(script, int):
        return script
    try:
        with FilmProject.open(script) as project:
            entries = project.cut(drafts=request.drafts)
    except RunError as exc:
        say(err, f"error: {exc}")
        return ExitCode.IO
    missing = [e for e in entries if e.missing]
    if missing and not request.allow_missing:
        say(err, f"error: {len(missing)} scene(s) of the cut have no clip:")
        for line in _missing_lines(entries):
            say(err, line)
        hint = "" if request.drafts else ", --drafts to let drafts stand in"
        say(err, f"run them first, or --allow-missing for black slates{hint}")
        return ExitCode.ERRORS
    output = request.output
    if output is None and request.timeline is None:
        output = default_output(request.file)
    report: CutReport | None = None
    timeline: Any = None
    try:
        if request.timeline is not None:
            from shotc.film.timeline import write_timeline

            timeline = write_timeline(
                entries,
                request.timeline,
                name=script.film_title,
                allow_missing=request.allow_missing,
            )
        if output is not None:
            report = assemble(
                entries,
                output,
                aspect_ratio=film_aspect(script),
                allow_missing=request.allow_missing,
            )
    except MissingScenes as exc:  # cannot happen after the check above; kept exact anyway
        say(err, f"error: {exc}")
        return ExitCode.ERRORS
    except (FilmError, OSError) as exc:
        say(err, f"error: {exc}")
        return ExitCode.IO
    if request.as_json:
        out.write(json_safe(json.dumps(_cut_json(entries, report, timeline), indent=2)) + "\n")
        return ExitCode.OK
    out.write(_table(["#", "scene", "take", "mode", "clip"], _summary_rows(entries)) + "\n")
    if report is not None:
        how = "stream copy" if report.method == "copy" else "re-encoded"
        out.write(
            f"{_shown_path(report.output)}: {len(entries)} scene(s), {report.duration:.2f} s, "
            f"{report.width}x{report.height} at {float(report.fps):g} fps, {how} "
            f"({report.reason})\n"
        )
    if timeline is not None:
        out.write(
            f"{_shown_path(timeline.path)}: timeline ({timeline.adapter}), "
            f"{timeline.clips} clip(s), {timeline.missing} missing, {timeline.duration:.2f} s\n"
        )
    return ExitCode.OK


def _cut_json(entries: list[CutEntry], report: CutReport | None, timeline: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"scenes": [_entry_json(e) for e in entries]}
    if report is not None:
        data["film"] = {
            "path": str(report.output),
            "method": report.method,
            "reason": report.reason,
            "width": report.width,
            "height": report.height,
            "fps": float(report.fps),
            "duration": report.duration,
            "tracks": report.tracks,
            "items": [
                {"scene_id": i.entry.scene_id, "start": i.start, "duration": i.duration}
                for i in report.items
            ],
        }
    if timeline is not None:
        data["timeline"] = {
            "path": str(timeline.path),
            "format": timeline.adapter,
            "duration": timeline.duration,
            "clips": timeline.clips,
            "missing": timeline.missing,
        }
    return data


# -- review -----------------------------------------------------------------------------------


def review(
    file: Path,
    port: int,
    open_browser: bool,
    static_dir: Path | None,
    out: TextIO,
    err: TextIO,
) -> int:
    from shotc.film.review.load import ReviewLoader

    script = compiled_or_code(file, err)
    if isinstance(script, int):
        return script
    loader = ReviewLoader(file, can_pick=static_dir is None)
    try:
        if static_dir is not None:
            from shotc.film.review.static import write_static

            index = write_static(loader.load(), static_dir)
            out.write(f"{_shown_path(index)}\n")
            return ExitCode.OK
        return _serve(loader, port, open_browser, out, err)
    except KeyboardInterrupt as exc:
        say(err, "stopped")
        return signal_exit(exc)
    except (RunError, FilmError, OSError) as exc:
        say(err, f"error: {exc}")
        return ExitCode.IO


def _serve(loader: Any, port: int, open_browser: bool, out: TextIO, err: TextIO) -> int:
    from shotc.film.review.server import ReviewServer

    loader.load()  # a broken ledger is an error now, not a blank page later
    try:
        server = ReviewServer(loader.load, loader.pick, port)
    except OSError as exc:
        say(err, f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
        return ExitCode.IO
    try:
        out.write(f"{server.url}\n")
        out.flush()
        say(err, "serving the review page on loopback; Ctrl-C to stop")
        if open_browser:
            import webbrowser

            webbrowser.open(server.url)
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return ExitCode.OK


# -- prune ------------------------------------------------------------------------------------


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"


def prune(file: Path, dry_run: bool, older: bool, as_json: bool, out: TextIO, err: TextIO) -> int:
    from shotc.film.project import FilmProject
    from shotc.film.prune import apply_prune, plan_prune

    script = compiled_or_code(file, err)
    if isinstance(script, int):
        return script
    try:
        with FilmProject.open(script) as film, film.no_run() as free:
            if not free:
                say(err, "error: a `run` of this project is going on: prune after it ends")
                return ExitCode.IO
            plan = plan_prune(film.known_files(), film.needed_paths(), older=older)
            deleted, failed = (list(plan.delete), []) if dry_run else apply_prune(plan)
    except KeyboardInterrupt as exc:
        say(err, "interrupted")
        return signal_exit(exc)
    except RunError as exc:
        say(err, f"error: {exc}")
        return ExitCode.IO
    freed = sum(d.size for d in deleted)
    for skipped in plan.skipped:
        say(err, f"warning: left alone {_shown_path(skipped.path)}: {skipped.why}")
    for failure in failed:
        say(err, f"error: cannot delete {_shown_path(failure.path)}: {failure.why}")
    if as_json:
        data = {
            "dry_run": dry_run,
            "deleted" if not dry_run else "would_delete": [
                {
                    "path": str(d.path),
                    "bytes": d.size,
                    "kind": d.kind,
                    "scene_id": d.scene_id,
                    "take": d.take,
                    "mode": d.mode,
                }
                for d in deleted
            ],
            "bytes": freed,
            "kept": plan.kept,
            "skipped": [{"path": str(s.path), "why": s.why} for s in plan.skipped],
            "failed": [{"path": str(s.path), "why": s.why} for s in failed],
        }
        out.write(json_safe(json.dumps(data, indent=2)) + "\n")
    else:
        verb = "would delete" if dry_run else "deleted"
        for d in deleted:
            out.write(
                f"{verb} {_shown_path(d.path)}  ({d.kind}: {d.scene_id} take {d.take} {d.mode},"
                f" {_size(d.size)})\n"
            )
        hint = "" if older or not dry_run else " (--older also deletes older versions)"
        out.write(
            f"{len(deleted)} file(s), {_size(freed)} {'to free' if dry_run else 'freed'}; "
            f"{plan.kept} kept{hint}\n"
        )
    return ExitCode.IO if failed else ExitCode.OK
