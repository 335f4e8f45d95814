"""Media facts about clips (film stage), with PyAV: what a clip holds (`probe`: duration,
size, codecs, pixel format, frame rate, audio), whether clips can be joined without
re-encoding (`ClipInfo.copy_key`), and a clip's final decoded frame as a PNG
(`last_frame_png`, for continuity: `FIRST FRAME after X`).

PyAV is imported inside the functions: `check` and `build` never load it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shotc.film.files import write_atomic

if TYPE_CHECKING:
    import av.container
    import av.video.frame

# How far before the end `last_frame_png` seeks (then decodes to the end): more than any
# keyframe interval a generator uses, so the seek lands on a keyframe before the last frame.
LAST_FRAME_SEEK_BACK = 2.0


class FilmError(Exception):
    """A film-stage failure on local files (`shotc cut` exits 4 with it)."""


class MediaError(FilmError):
    """A clip cannot be read as video (missing, truncated, not a video container)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    pix_fmt: str
    fps: Fraction  # average frame rate
    profile: str | None
    extradata: str  # sha256 of the codec's global headers (SPS/PPS for H.264), "" if none
    duration: float  # seconds of this track

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    layout: str
    profile: str | None
    extradata: str
    duration: float


@dataclass(frozen=True)
class ClipInfo:
    path: Path
    duration: float  # seconds: the video track's, else the container's
    video: VideoInfo
    audio: AudioInfo | None

    def copy_key(self) -> tuple[object, ...]:
        """Clips with equal keys can be joined by copying their packets: same codec and
        parameters (global headers included, which one MP4 track holds once), same frame rate,
        same audio or none. Durations are not part of it."""
        v = self.video
        video = (v.codec, v.width, v.height, v.pix_fmt, v.fps, v.profile, v.extradata)
        a = self.audio
        audio = (
            None
            if a is None
            else (a.codec, a.sample_rate, a.channels, a.layout, a.profile, a.extradata)
        )
        return video, audio

    def audio_lines_up(self) -> bool:
        """Whether the audio track ends within one frame of the video (else joining copies
        would let the audio drift from the picture)."""
        if self.audio is None:
            return True
        return abs(self.audio.duration - self.video.duration) <= 1 / float(self.video.fps)


def _digest(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest() if data else ""


def _track_seconds(stream: Any, container: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return 0.0


# Container options that read the headers only: no frame is decoded to guess parameters
# (what FFmpeg's stream-info probing does, ~20x slower on a 720p clip). An MP4 says all the
# join needs in its headers; the pixel format and profile may then be unknown.
HEADERS_ONLY = {"analyzeduration": "0", "probesize": "32"}


def open_input(path: Path, *, headers_only: bool = False) -> av.container.InputContainer:
    """Open a clip for reading, as MediaError when PyAV cannot."""
    import av

    if not path.is_file():
        raise MediaError(path, "no such file")
    try:
        return av.open(str(path), "r", options=HEADERS_ONLY if headers_only else None)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(path, f"not a readable video ({exc})") from exc


def probe(path: Path, *, headers_only: bool = False) -> ClipInfo:
    """What a clip holds. `headers_only`: from the container's headers alone (fast; the
    pixel format and profile may be "" and None, but the codec's global headers, whose digest
    is in `copy_key`, carry them for H.264 and HEVC); a clip without global headers is then
    probed in full, so `copy_key` never mistakes two clips for alike."""
    if headers_only:
        quick = _probe(path, headers_only=True)
        if quick.video.extradata or quick.video.pix_fmt:
            return quick
    return _probe(path, headers_only=False)


def _probe(path: Path, *, headers_only: bool) -> ClipInfo:
    with open_input(path, headers_only=headers_only) as container:
        if not container.streams.video:
            raise MediaError(path, "no video track")
        vs = container.streams.video[0]
        cc = vs.codec_context
        fps = vs.average_rate or vs.guessed_rate or vs.base_rate
        if not fps or not cc.width or not cc.height:
            raise MediaError(path, "video track without a size or a frame rate")
        video = VideoInfo(
            codec=cc.name,
            width=cc.width,
            height=cc.height,
            pix_fmt=cc.pix_fmt or "",
            fps=Fraction(fps),
            profile=cc.profile,
            extradata=_digest(cc.extradata),
            duration=_track_seconds(vs, container),
        )
        audio = None
        if container.streams.audio:
            ast = container.streams.audio[0]
            ac = ast.codec_context
            audio = AudioInfo(
                codec=ac.name,
                sample_rate=ac.sample_rate,
                channels=ac.channels,
                layout=ac.layout.name,
                profile=ac.profile,
                extradata=_digest(ac.extradata),
                duration=_track_seconds(ast, container),
            )
        container_seconds = float(container.duration or 0) / 1_000_000
    return ClipInfo(path, video.duration or container_seconds, video, audio)


def last_video_frame(path: Path) -> av.video.frame.VideoFrame:
    """The clip's final decoded video frame (in presentation order)."""
    import av

    with open_input(path) as container:
        if not container.streams.video:
            raise MediaError(path, "no video track")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration = _track_seconds(stream, container)
        last = None
        try:
            # Seek near the end (to the keyframe before) and decode from there: the whole
            # clip need not be decoded. A seek that lands nowhere falls back to the start.
            if duration > LAST_FRAME_SEEK_BACK and stream.time_base is not None:
                target = int((duration - LAST_FRAME_SEEK_BACK) / stream.time_base)
                container.seek(target, stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if last is None or (frame.pts or 0) >= (last.pts or 0):
                    last = frame
            if last is None and duration > LAST_FRAME_SEEK_BACK:
                container.seek(0, stream=stream)
                for frame in container.decode(stream):
                    last = frame
        except av.FFmpegError as exc:
            if last is None:
                raise MediaError(path, f"cannot decode ({exc})") from exc
            # A damaged tail: the last frame that did decode is the clip's last frame.
        if last is None:
            raise MediaError(path, "no decodable video frame")
        return last


def png_bytes(frame: av.video.frame.VideoFrame) -> bytes:
    """A video frame encoded as a PNG file (RGB, the frame's own size)."""
    import av

    rgb = frame.reformat(format="rgb24")
    codec = av.CodecContext.create("png", "w")
    assert isinstance(codec, av.video.codeccontext.VideoCodecContext)
    codec.width, codec.height, codec.pix_fmt = rgb.width, rgb.height, "rgb24"
    codec.time_base = Fraction(1, 25)
    rgb.pts = 0
    rgb.time_base = codec.time_base
    packets = codec.encode(rgb) + codec.encode(None)
    return b"".join(bytes(p) for p in packets)


def last_frame_png(clip: Path, out_png: Path) -> Path:
    """Write the clip's final decoded video frame to `out_png` as PNG, atomically (a crash
    leaves the previous file or none, never half a PNG). Returns `out_png`."""
    write_atomic(out_png, png_bytes(last_video_frame(clip)))
    return out_png
