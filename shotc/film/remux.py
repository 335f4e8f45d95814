"""The stream-copy join of `cut` (film stage): clips whose codec parameters are all equal are
joined by copying their compressed packets into one MP4, each clip's timestamps shifted to
start where the previous clip's picture ended. Nothing is decoded, so it runs at the speed of
the disk. Audio is cut to its clip's picture (a packet starting past the picture's end is
dropped; the encoder-delay packet that opens every clip after the first is dropped too, since
it would overlap the previous clip), so picture and sound stay in step across the film."""

from __future__ import annotations

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
            with open_input(path) as container:
                vs = container.streams.video[0]
                start, length = _clip_span(vs)
                streams: list[Any] = [vs]
                if oaudio is not None:
                    streams.append(container.streams.audio[0])
                for packet in container.demux(streams):
                    if packet.pts is None or packet.size == 0:
                        continue  # the demuxer's end-of-stream marker
                    is_video = packet.stream is vs
                    ostream = ovideo if is_video else oaudio
                    assert ostream is not None
                    tb = packet.time_base
                    rel = Fraction(packet.pts) * tb - start
                    if not is_video and ((number and rel < 0) or rel >= length):
                        continue
                    otb = ostream.time_base
                    assert otb is not None
                    pts = round((rel + offset) / otb)
                    dts_in = packet.dts if packet.dts is not None else packet.pts
                    dts = round((Fraction(dts_in) * tb - start + offset) / otb)
                    previous = last_dts.get(ostream.index)
                    if previous is not None and dts <= previous:
                        # Rounding between time bases must not make decode order go back.
                        dts = previous + 1
                        pts = max(pts, dts)
                    last_dts[ostream.index] = dts
                    duration = round(Fraction(packet.duration or 0) * tb / otb)
                    packet.stream = ostream
                    packet.time_base = otb
                    packet.pts, packet.dts, packet.duration = pts, dts, duration
                    out.mux(packet)
            lengths.append(length)
            offset += length
    return lengths
