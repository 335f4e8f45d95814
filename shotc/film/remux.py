"""The stream-copy join of `cut` (film stage): clips whose codec parameters are all equal are
joined by copying their compressed packets into one MP4, each clip's timestamps shifted to
start where the previous clip's picture ended. Nothing is decoded, so it runs at the speed of
the disk. Audio is cut to its clip's picture (a packet starting past the picture's end is
dropped; the encoder-delay packet that opens every clip after the first is dropped too, since
it would overlap the previous clip), so picture and sound stay in step across the film."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

from shotc.film.media import MediaError, open_input


def _clip_span(stream: Any) -> tuple[Fraction, Fraction]:
    """(start, length) of a video stream in seconds, from its header."""
    tb = stream.time_base
    start = Fraction(stream.start_time or 0) * tb
    if stream.duration is None:
        raise MediaError(Path(stream.container.name), "video track without a duration")
    return start, Fraction(stream.duration) * tb


class _Rescale:
    """ts -> round(ts * scale + shift) in integers (Fractions per packet cost more than the
    copying itself)."""

    def __init__(self, scale: Fraction, shift: Fraction) -> None:
        self.identity = scale == 1 and shift.denominator == 1
        self.int_shift = int(shift) if self.identity else 0
        self.num = scale.numerator * shift.denominator
        self.add = shift.numerator * scale.denominator
        self.den = scale.denominator * shift.denominator

    def __call__(self, ts: int) -> int:
        if self.identity:
            return ts + self.int_shift
        return (2 * (ts * self.num + self.add) + self.den) // (2 * self.den)


def remux(clips: list[Path], partial: Path, *, audio: bool) -> list[Fraction]:
    """Join `clips` (all with the same copy_key) into `partial` (MP4); returns each clip's
    length in the film, in seconds."""
    import av

    lengths: list[Fraction] = []
    with av.open(str(partial), "w", format="mp4") as out:
        with open_input(clips[0]) as first:
            ovideo = out.add_stream_from_template(first.streams.video[0])
            oaudio = out.add_stream_from_template(first.streams.audio[0]) if audio else None
        out.start_encoding()
        last_dts: dict[int, int] = {}
        offset = Fraction(0)
        for number, path in enumerate(clips):
            with open_input(path, headers_only=True) as container:
                vs = container.streams.video[0]
                start, length = _clip_span(vs)
                plan: dict[int, tuple[Any, Fraction, _Rescale, _Rescale, int, int]] = {}
                streams: list[Any] = [vs]
                if oaudio is not None:
                    streams.append(container.streams.audio[0])
                for stream in streams:
                    ostream = ovideo if stream is vs else oaudio
                    assert ostream is not None
                    tb, otb = stream.time_base, ostream.time_base
                    assert tb is not None and otb is not None
                    to_out = _Rescale(tb / otb, (offset - start) / otb)
                    # Audio kept: from the clip's start (the first clip's encoder delay too)
                    # to the end of its picture, as input ticks.
                    low, high = -(2**62), 2**62  # the picture: every packet
                    if stream is not vs:
                        # Sound: from the clip's start (so the encoder-delay packet of clips
                        # after the first is dropped) to the end of its picture, input ticks.
                        low = math.ceil(start / tb) if number else low
                        high = math.ceil((start + length) / tb)
                    rescale = _Rescale(tb / otb, Fraction(0))
                    plan[stream.index] = (ostream, otb, to_out, rescale, low, high)
                for packet in container.demux(streams):
                    if packet.pts is None or packet.size == 0:
                        continue  # the demuxer's end-of-stream marker
                    ostream, otb, to_out, scale, low, high = plan[packet.stream.index]
                    if not low <= packet.pts < high:
                        continue
                    pts = to_out(packet.pts)
                    dts = to_out(packet.dts) if packet.dts is not None else pts
                    previous = last_dts.get(ostream.index)
                    if previous is not None and dts <= previous:
                        # Rounding between time bases must not make decode order go back.
                        dts = previous + 1
                        pts = max(pts, dts)
                    last_dts[ostream.index] = dts
                    duration = scale(packet.duration or 0)
                    packet.stream = ostream
                    packet.time_base = otb
                    packet.pts, packet.dts, packet.duration = pts, dts, duration
                    out.mux_one(packet)
            lengths.append(length)
            offset += length
    return lengths
