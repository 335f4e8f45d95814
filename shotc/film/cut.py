"""The cut (film stage): the chosen clips of a script's scenes, joined in order into one MP4.

API for `shotc cut` (the caller chooses the clips; this module only joins them):

    from shotc.film.cut import CutEntry, assemble, MissingScenes
    entries = [CutEntry(scene_id="s01", title="Dawn", seconds=5.0, path=Path(...), take=1,
                        mode="std", task_id="task_...", prompt="..."),
               CutEntry(scene_id="s02", title="Dusk", seconds=10.0, path=None, state="failed")]
    report = assemble(entries, Path("film.mp4"), aspect_ratio="16:9", allow_missing=True)

- `entries`: one per scene, in script order; `path=None` for a missing scene (`state` says
  why: new, running, failed: reason...).
- Missing scenes without `allow_missing`: `MissingScenes` (its `.missing` lists them), raised
  before anything is written: `shotc cut` exits 1 and lists each with its state. With
  `allow_missing`, each becomes a black slate of `seconds` with its title drawn on it.
- A clip that cannot be read raises `MediaError` (shotc.film.media); an output whose tracks do
  not last what the clips add up to raises `CutVerifyError`. Both are `FilmError`: exit 4.
  In every failure the previous `output` is left untouched (the film is written to a partial
  file beside it and renamed into place only once verified).
- When every scene has a clip and all clips share codec parameters (`ClipInfo.copy_key`), the
  streams are copied (`report.method == "copy"`), else everything is re-encoded (`"encode"`) to
  the script's aspect (`aspect_ratio` "16:9", "9:16", "1:1"; None: the largest clip's own) at
  the highest resolution among the clips (the largest short side: 1080 for 1080p, in both
  orientations), each clip fitted inside the frame with black bars, never cropped, at the
  highest frame rate among them. A slate forces a re-encode (its frames must be encoded).
- `report.items` gives each scene's start and length in the film, the clip, take and mode:
  what the summary prints and what `shotc.film.timeline.write_timeline` takes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from shotc.film.files import atomic_output
from shotc.film.media import ClipInfo, FilmError, MediaError, open_input, probe

DEFAULT_FPS = Fraction(24)  # a film of slates only: Kling's own rate
DEFAULT_SHORT_SIDE = 720  # a film of slates only: Kling std's 720p
ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}


@dataclass(frozen=True)
class CutEntry:
    """One scene of the cut, in script order, with the clip chosen for it (or none)."""

    scene_id: str
    title: str
    seconds: float  # what the script says the scene lasts
    path: Path | None  # the clip; None when the scene is missing
    take: int | None = None
    mode: str | None = None
    task_id: str | None = None
    prompt: str = ""
    state: str | None = None  # why a missing scene is missing (new, running, failed: ...)
    draft: bool = False  # a draft standing in (cut --drafts)

    @property
    def missing(self) -> bool:
        return self.path is None


@dataclass(frozen=True)
class CutItem:
    """Where one scene sits in the film."""

    entry: CutEntry
    start: float  # seconds from the film's start
    duration: float  # seconds it lasts in the film
    info: ClipInfo | None  # None for a slate

    @property
    def slate(self) -> bool:
        return self.info is None


@dataclass(frozen=True)
class CutReport:
    output: Path
    method: Literal["copy", "encode"]
    reason: str  # why this method (for the summary)
    width: int
    height: int
    fps: Fraction
    audio: bool
    duration: float  # seconds, as verified
    tracks: dict[str, float]  # each track's verified duration in seconds
    items: tuple[CutItem, ...]


class CutVerifyError(FilmError):
    """The written film's tracks do not last what its scenes add up to."""


class MissingScenes(FilmError):
    """Scenes without a clip, and slates were not allowed."""

    def __init__(self, missing: list[CutEntry]) -> None:
        names = ", ".join(f"{e.scene_id} ({e.state or 'missing'})" for e in missing)
        super().__init__(f"scenes without a clip: {names}")
        self.missing = tuple(missing)


def frame_size(aspect: tuple[int, int], short_side: int) -> tuple[int, int]:
    """The frame of aspect `aspect` whose short side is `short_side`, in even pixels."""
    aw, ah = aspect
    long_side = short_side * max(aw, ah) / min(aw, ah)
    even_long = 2 * max(1, round(long_side / 2))
    even_short = 2 * max(1, round(short_side / 2))
    return (even_long, even_short) if aw >= ah else (even_short, even_long)


def parse_aspect(aspect_ratio: str | None, infos: list[ClipInfo]) -> tuple[int, int]:
    if aspect_ratio is not None:
        if aspect_ratio in ASPECTS:
            return ASPECTS[aspect_ratio]
        w, sep, h = aspect_ratio.partition(":")
        if sep and w.isdigit() and h.isdigit() and int(w) and int(h):
            return int(w), int(h)
        raise ValueError(f"aspect ratio {aspect_ratio!r}: expected W:H such as 16:9")
    if infos:
        largest = max(infos, key=lambda i: i.video.width * i.video.height)
        g = math.gcd(largest.video.width, largest.video.height)
        return largest.video.width // g, largest.video.height // g
    return ASPECTS["16:9"]


def choose_method(infos: list[ClipInfo | None]) -> tuple[bool, str]:
    """(stream copy possible, why) for the scenes' clips (None: a slate)."""
    if not infos:
        return False, "no clips"
    if any(i is None for i in infos):
        return False, "slates for missing scenes must be encoded"
    clips = [i for i in infos if i is not None]
    keys = {i.copy_key() for i in clips}
    if len(keys) > 1:
        return False, f"clips differ ({', '.join(_differences(clips))})"
    for i in clips:
        if not i.audio_lines_up():
            return False, f"{i.path.name}: audio and picture lengths differ"
    return True, "all clips share codec parameters"


def _differences(clips: list[ClipInfo]) -> list[str]:
    """What varies among the clips, in words, for the summary."""
    facets: dict[str, Callable[[ClipInfo], str]] = {
        "size": lambda i: f"{i.video.width}x{i.video.height}",
        "codec": lambda i: i.video.codec,
        "frame rate": lambda i: f"{float(i.video.fps):g} fps",
        "sound": lambda i: (
            "none"
            if i.audio is None
            else f"{i.audio.codec} {i.audio.sample_rate} Hz {i.audio.channels} ch"
        ),
    }
    out = []
    for name, facet in facets.items():
        values = sorted({facet(i) for i in clips})
        if len(values) > 1:
            out.append(f"{name}: {' / '.join(values)}")
    return out or ["encoder settings"]


def _slate_note(entry: CutEntry) -> str:
    return f"{entry.scene_id} · missing ({entry.state or 'no clip'}) · {entry.seconds:g} s"


def assemble(
    entries: list[CutEntry],
    output: Path,
    *,
    aspect_ratio: str | None = None,
    allow_missing: bool = False,
) -> CutReport:
    """Join the cut's clips in order into `output` (MP4), atomically; see the module's doc."""
    missing = [e for e in entries if e.missing]
    if missing and not allow_missing:
        raise MissingScenes(missing)
    if not entries:
        raise FilmError("the cut has no scenes")
    infos: list[ClipInfo | None] = [
        None if e.path is None else probe(e.path, headers_only=True) for e in entries
    ]
    copy, reason = choose_method(infos)
    with atomic_output(output) as partial:
        if copy:
            report = _copy(entries, infos, partial, reason)
        else:
            report = _encode(entries, infos, partial, aspect_ratio, reason)
        tracks = verify(partial, report.duration, report.fps, audio=report.audio)
    return CutReport(
        output,
        report.method,
        reason,
        report.width,
        report.height,
        report.fps,
        report.audio,
        report.duration,
        tracks,
        report.items,
    )


def _items(
    entries: list[CutEntry], infos: list[ClipInfo | None], lengths: list[Fraction]
) -> tuple[tuple[CutItem, ...], Fraction]:
    items, at = [], Fraction(0)
    for entry, info, length in zip(entries, infos, lengths, strict=True):
        items.append(CutItem(entry, float(at), float(length), info))
        at += length
    return tuple(items), at


def _copy(
    entries: list[CutEntry], infos: list[ClipInfo | None], partial: Path, reason: str
) -> CutReport:
    from shotc.film.remux import remux

    clips = [i for i in infos if i is not None]
    first = clips[0]
    lengths = remux([i.path for i in clips], partial, audio=first.audio is not None)
    items, total = _items(entries, infos, lengths)
    return CutReport(
        partial,
        "copy",
        reason,
        first.video.width,
        first.video.height,
        first.video.fps,
        first.audio is not None,
        float(total),
        {},
        items,
    )


def _encode(
    entries: list[CutEntry],
    infos: list[ClipInfo | None],
    partial: Path,
    aspect_ratio: str | None,
    reason: str,
) -> CutReport:
    from shotc.film.encode import Format, Segment, encode

    clips = [i for i in infos if i is not None]
    aspect = parse_aspect(aspect_ratio, clips)
    short = max((min(i.video.size) for i in clips), default=DEFAULT_SHORT_SIDE)
    width, height = frame_size(aspect, short)
    fps = max((i.video.fps for i in clips), default=DEFAULT_FPS)
    audios = [i.audio for i in clips if i.audio is not None]
    rate = max((a.sample_rate for a in audios), default=None)
    layout = "stereo" if any(a.channels >= 2 for a in audios) or not audios else "mono"
    fmt = Format(width, height, fps, rate, layout)
    segments, lengths = [], []
    for entry, info in zip(entries, infos, strict=True):
        seconds = entry.seconds if info is None else info.duration
        frames = max(1, round(Fraction(seconds) * fps))
        if info is None:
            segments.append(Segment(frames, None, (entry.title, _slate_note(entry))))
        else:
            segments.append(Segment(frames, info.path))
        lengths.append(Fraction(frames) / fps)
    encode(segments, partial, fmt)
    items, total = _items(entries, infos, lengths)
    return CutReport(
        partial, "encode", reason, width, height, fps, rate is not None, float(total), {}, items
    )


def verify(path: Path, expected: float, fps: Fraction, *, audio: bool) -> dict[str, float]:
    """Each track's duration as the file says; CutVerifyError unless each is within one frame
    of `expected` (and the audio track is there exactly when it should be)."""
    tolerance = 1 / float(fps)
    tracks: dict[str, float] = {}
    try:
        with open_input(path, headers_only=True) as container:
            for stream in container.streams:
                if stream.type in ("video", "audio") and stream.type not in tracks:
                    tb = stream.time_base
                    seconds = float(stream.duration * tb) if stream.duration and tb else 0.0
                    tracks[stream.type] = seconds
    except MediaError as exc:
        raise CutVerifyError(f"the film written cannot be read back: {exc.reason}") from exc
    wanted = {"video", "audio"} if audio else {"video"}
    if set(tracks) != wanted:
        raise CutVerifyError(f"the film has tracks {sorted(tracks)}, expected {sorted(wanted)}")
    for kind, seconds in tracks.items():
        if abs(seconds - expected) > tolerance:
            raise CutVerifyError(
                f"the film's {kind} track lasts {seconds:.3f} s, "
                f"its scenes add up to {expected:.3f} s"
            )
    return tracks
