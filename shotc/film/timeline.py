"""The cut as an editorial timeline (film stage), with OpenTimelineIO: `.otio`, `.xml` (Final
Cut 7 XML, which Premiere and Resolve import) or `.edl` (CMX 3600), chosen by extension.

One video track and one audio track, one clip per scene in script order, each referencing its
clip file by absolute `file://` URL, with the scene id, title, take, mode, task id and prompt
as metadata: under `metadata["shotc"]` in OTIO; in FCP XML as the clip's logging info (scene,
shot/take, description = title, log note = prompt) and master comments (mode, task id); in the
EDL in the clip name and as `* SHOTC ...` comment lines after each event. A missing scene
(with `allow_missing`) is a clip with no media (OTIO, FCP XML) or an event on the black reel
(EDL: `BL`), lasting the scene's seconds, so the timeline keeps the film's timing.

OpenTimelineIO and its adapters are imported inside `write_timeline` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from shotc.film.cut import DEFAULT_FPS, CutEntry, MissingScenes
from shotc.film.files import write_atomic
from shotc.film.media import ClipInfo, FilmError, probe

FORMATS = {".otio": "otio_json", ".xml": "fcp_xml", ".edl": "cmx_3600"}
METADATA_KEY = "shotc"
EDL_COMMENT = "SHOTC"  # EDL comment lines: "* SHOTC SCENE: s01"
REEL_LEN = 8  # CMX 3600 reel names: 8 characters


@dataclass(frozen=True)
class TimelineReport:
    path: Path
    adapter: str
    fps: Fraction
    duration: float  # seconds
    clips: int  # scenes with a clip
    missing: int  # scenes without one


def adapter_for(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(FORMATS)
        raise FilmError(f"{path}: unknown timeline format (expected {known})") from None


def metadata_of(entry: CutEntry) -> dict[str, Any]:
    return {
        "scene_id": entry.scene_id,
        "title": entry.title,
        "take": entry.take,
        "mode": entry.mode,
        "task_id": entry.task_id,
        "prompt": entry.prompt,
        "seconds": entry.seconds,
        "draft": entry.draft,
        "missing": entry.missing,
        "state": entry.state,
    }


def clip_name(entry: CutEntry) -> str:
    """The name each clip carries (the only field every format keeps)."""
    if entry.missing:
        return f"{entry.scene_id} {entry.title} (missing)"
    draft = " draft" if entry.draft else ""
    return f"{entry.scene_id} {entry.title} take {entry.take} {entry.mode}{draft}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _edl_comments(entry: CutEntry) -> list[str]:
    fields = [
        ("SCENE", entry.scene_id),
        ("TITLE", entry.title),
        ("TAKE", entry.take),
        ("MODE", entry.mode),
        ("TASK", entry.task_id),
        ("PROMPT", entry.prompt),
        ("STATE", entry.state),
    ]
    return [f"{EDL_COMMENT} {k}: {_one_line(str(v))}" for k, v in fields if v not in (None, "")]


def _fcp_metadata(entry: CutEntry) -> dict[str, Any]:
    return {
        "logginginfo": {
            "description": entry.title,
            "scene": entry.scene_id,
            "shottake": "" if entry.take is None else str(entry.take),
            "lognote": _one_line(entry.prompt),
        },
        "comments": {
            "mastercomment1": f"mode {entry.mode or ''}".strip(),
            "mastercomment2": f"task {entry.task_id or ''}".strip(),
        },
    }


def _reel(index: int, entry: CutEntry) -> str:
    alnum = "".join(c for c in entry.scene_id if c.isascii() and c.isalnum()).upper()
    return (f"{index:03d}{alnum}")[:REEL_LEN]


def build_timeline(
    entries: list[CutEntry], infos: list[ClipInfo | None], *, name: str, adapter: str
) -> Any:
    """An otio.schema.Timeline of the cut (`infos[i]` None for a missing scene)."""
    import opentimelineio as otio

    rates = [float(i.video.fps) for i in infos if i is not None]
    rate = max(rates, default=float(DEFAULT_FPS))
    timeline = otio.schema.Timeline(name=name)
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    for index, (entry, info) in enumerate(zip(entries, infos, strict=True), start=1):
        seconds = entry.seconds if info is None else info.duration
        clip_rate = rate if info is None else float(info.video.fps)
        length = otio.opentime.RationalTime(round(seconds * clip_rate), clip_rate)
        source = otio.opentime.TimeRange(otio.opentime.RationalTime(0, clip_rate), length)
        metadata: dict[str, Any] = {METADATA_KEY: metadata_of(entry)}
        if adapter == "fcp_xml":
            metadata["fcp_xml"] = _fcp_metadata(entry)
        if adapter == "cmx_3600":
            metadata["cmx_3600"] = {"comments": _edl_comments(entry)}
            if info is not None:
                metadata["cmx_3600"]["reel"] = _reel(index, entry)
        if info is None and adapter == "cmx_3600":
            # An EDL has no media-less clip: an event on the black reel (BL) keeps the timing
            # (a gap would leave no event, and none at all at the very end) and the comments.
            metadata["cmx_3600"]["reel"] = "BL"
            black = otio.schema.GeneratorReference(generator_kind="black")
            video.append(
                otio.schema.Clip(
                    name=clip_name(entry),
                    media_reference=black,
                    source_range=source,
                    metadata=metadata,
                )
            )
            audio.append(otio.schema.Gap(source_range=source))
            continue
        for track, kind in ((video, "video"), (audio, "audio")):
            if kind == "audio" and (info is None or info.audio is None):
                audio.append(otio.schema.Gap(source_range=source))
                continue
            reference: Any
            if info is None:
                reference = otio.schema.MissingReference()
            else:
                reference = otio.schema.ExternalReference(
                    target_url=info.path.resolve().as_uri(), available_range=source
                )
            track.append(
                otio.schema.Clip(
                    name=clip_name(entry),
                    media_reference=reference,
                    source_range=source,
                    metadata=metadata,
                )
            )
    timeline.tracks.append(video)
    timeline.tracks.append(audio)
    return timeline


def write_timeline(
    entries: list[CutEntry], path: Path, *, name: str = "", allow_missing: bool = False
) -> TimelineReport:
    """Write the cut as a timeline at `path` (format by extension), atomically. Missing
    scenes raise MissingScenes unless `allow_missing`; unreadable clips raise MediaError."""
    import opentimelineio as otio

    adapter = adapter_for(path)
    missing = [e for e in entries if e.missing]
    if missing and not allow_missing:
        raise MissingScenes(missing)
    infos = [None if e.path is None else probe(e.path) for e in entries]
    timeline = build_timeline(entries, infos, name=name or path.stem, adapter=adapter)
    try:
        text = otio.adapters.write_to_string(timeline, adapter_name=adapter)
    except otio.exceptions.OTIOError as exc:
        raise FilmError(f"{path}: cannot write this timeline as {adapter}: {exc}") from exc
    write_atomic(path, text.encode())
    duration = timeline.duration()
    return TimelineReport(
        path,
        adapter,
        Fraction(duration.rate).limit_denominator(1001),
        duration.to_seconds(),
        len(entries) - len(missing),
        len(missing),
    )
