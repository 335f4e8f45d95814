"""The re-encoding join of `cut` (film stage), for clips that cannot be stream-copied together
(different sizes, codecs or frame rates) and for slates: every scene is decoded and encoded
again (H.264 + AAC in MP4) into one frame size and rate.

Each clip is scaled to fit inside the frame, keeping its aspect (black bars, never a crop);
its picture is resampled to the film's frame rate by showing, at each output frame's time, the
latest source frame not after it; its sound is resampled to the film's audio format, cut or
padded with silence to the scene's length in frames. A scene's length is a whole number of
frames and its sound a whole number of samples derived from the same frame counts, so picture
and sound line up over any number of scenes.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from shotc.film.media import MediaError, open_input
from shotc.film.slate import slate_luma, yuv420p_frame

CRF = "18"  # x264 quality: visually lossless for a master; the film is a final output
PRESET = "veryfast"  # x264 speed: a few times real time on two cores at 1080p
AUDIO_BIT_RATE = 192_000


@dataclass(frozen=True)
class Format:
    width: int
    height: int
    fps: Fraction
    audio_rate: int | None  # None: the film has no audio track
    audio_layout: str = "stereo"

    @property
    def channels(self) -> int:
        return 1 if self.audio_layout == "mono" else 2


@dataclass(frozen=True)
class Segment:
    """One scene of the re-encoded film: `frames` frames of `clip`, or of a slate."""

    frames: int
    clip: Path | None
    slate: tuple[str, str] = ("", "")  # (title, note) when clip is None


class _AudioOut:
    """Planar float samples buffered and sent to the encoder in its frame size."""

    def __init__(self, out: Any, stream: Any, fmt: Format) -> None:
        self.out, self.stream, self.fmt = out, stream, fmt
        self.planes = [bytearray() for _ in range(fmt.channels)]
        self.frame_size = stream.codec_context.frame_size or 1024
        self.pts = 0
        self.written = 0  # samples accepted

    def add(self, planes: list[bytes]) -> None:
        for buf, data in zip(self.planes, planes, strict=True):
            buf += data
        self.written += len(planes[0]) // 4
        self._drain(final=False)

    def silence(self, samples: int) -> None:
        if samples > 0:
            self.add([bytes(samples * 4)] * self.fmt.channels)

    def _drain(self, *, final: bool) -> None:
        import av

        step = self.frame_size * 4
        while len(self.planes[0]) >= step or (final and self.planes[0]):
            n = min(step, len(self.planes[0])) // 4
            frame = av.AudioFrame(format="fltp", layout=self.fmt.audio_layout, samples=n)
            for plane, buf in zip(frame.planes, self.planes, strict=True):
                plane.update(bytes(buf[: n * 4]))
                del buf[: n * 4]
            frame.sample_rate = self.fmt.audio_rate or 48000
            frame.pts = self.pts
            frame.time_base = Fraction(1, frame.sample_rate)
            self.pts += n
            self.out.mux(self.stream.encode(frame))

    def close(self) -> None:
        self._drain(final=True)
        self.out.mux(self.stream.encode(None))


def _fit_graph(stream: Any, fmt: Format) -> Any:
    """scale (fit inside, keep aspect) -> pad (centre, black) -> square pixels -> yuv420p."""
    import av.filter

    graph = av.filter.Graph()
    nodes = [
        graph.add_buffer(template=stream),
        graph.add(
            "scale",
            f"w={fmt.width}:h={fmt.height}:force_original_aspect_ratio=decrease"
            ":force_divisible_by=2",
        ),
        graph.add("pad", f"w={fmt.width}:h={fmt.height}:x=(ow-iw)/2:y=(oh-ih)/2:color=black"),
        graph.add("setsar", "1"),
        graph.add("format", "yuv420p"),
        graph.add("buffersink"),
    ]
    graph.link_nodes(*nodes).configure()
    return graph


class _Encoder:
    def __init__(self, out: Any, fmt: Format) -> None:
        self.out, self.fmt = out, fmt
        self.video = out.add_stream("libx264", rate=fmt.fps, options={"crf": CRF, "preset": PRESET})
        self.video.width, self.video.height = fmt.width, fmt.height
        self.video.pix_fmt = "yuv420p"
        self.audio_stream = None
        if fmt.audio_rate is not None:
            self.audio_stream = out.add_stream("aac", rate=fmt.audio_rate)
            self.audio_stream.layout = fmt.audio_layout
            self.audio_stream.bit_rate = AUDIO_BIT_RATE
        out.start_encoding()
        self.audio = None if self.audio_stream is None else _AudioOut(out, self.audio_stream, fmt)
        self.frames = 0  # frames written

    def put(self, frame: Any) -> None:
        frame.pts = self.frames
        frame.time_base = 1 / self.fmt.fps
        self.frames += 1
        self.out.mux(self.video.encode(frame))

    def audio_until(self, frames: int) -> int:
        """Samples the audio must hold once `frames` frames of picture are written."""
        assert self.fmt.audio_rate is not None
        return round(Fraction(frames) / self.fmt.fps * self.fmt.audio_rate)

    def slate(self, segment: Segment) -> None:
        title, note = segment.slate
        luma = slate_luma(self.fmt.width, self.fmt.height, title, note)
        end = self.frames + segment.frames
        for _ in range(segment.frames):
            self.put(yuv420p_frame(self.fmt.width, self.fmt.height, luma))
        if self.audio is not None:
            self.audio.silence(self.audio_until(end) - self.audio.written)

    def clip(self, segment: Segment) -> None:
        assert segment.clip is not None
        start = self.frames
        self._clip_video(segment.clip, segment.frames)
        if self.audio is not None:
            self._clip_audio(segment.clip, self.audio_until(start + segment.frames))

    def _clip_video(self, path: Path, frames: int) -> None:
        fps = self.fmt.fps
        with open_input(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            graph = _fit_graph(stream, self.fmt)

            def emit(source: Any) -> None:
                graph.push(source)
                self.put(graph.pull())

            k, current, t0 = 0, None, None
            for count, frame in enumerate(container.decode(stream)):
                if frame.pts is not None and frame.time_base is not None:
                    t = Fraction(frame.pts) * frame.time_base
                else:
                    t = Fraction(count) / (stream.average_rate or fps)
                t0 = t if t0 is None else t0
                while current is not None and k < frames and Fraction(k) / fps < t - t0:
                    emit(current)
                    k += 1
                if k >= frames:
                    break
                current = frame
            while current is not None and k < frames:  # the clip is shorter: hold its end
                emit(current)
                k += 1
            if current is None:
                raise MediaError(path, "no decodable video frame")

    def _clip_audio(self, path: Path, until: int) -> None:
        import av

        assert self.audio is not None and self.fmt.audio_rate is not None
        audio = self.audio
        with open_input(path) as container:
            if container.streams.audio:
                stream = container.streams.audio[0]
                resampler = av.AudioResampler(
                    format="fltp", layout=self.fmt.audio_layout, rate=self.fmt.audio_rate
                )
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        if self._take(out, until):
                            return
                for out in resampler.resample(None):
                    if self._take(out, until):
                        return
        audio.silence(until - audio.written)

    def _take(self, frame: Any, until: int) -> bool:
        """Add a resampled frame's samples, cut at `until`; True once the scene is full."""
        assert self.audio is not None
        n = min(frame.samples, until - self.audio.written)
        if n > 0:
            self.audio.add([bytes(p)[: n * 4] for p in frame.planes])
        return self.audio.written >= until

    def close(self) -> None:
        self.out.mux(self.video.encode(None))
        if self.audio is not None:
            self.audio.close()


def encode(segments: list[Segment], partial: Path, fmt: Format) -> None:
    """Write `segments` in order into `partial` (MP4) in format `fmt`."""
    import av

    with av.open(str(partial), "w", format="mp4") as out:
        encoder = _Encoder(out, fmt)
        for segment in segments:
            if segment.clip is None:
                encoder.slate(segment)
            else:
                encoder.clip(segment)
        encoder.close()
