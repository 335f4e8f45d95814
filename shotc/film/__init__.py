"""The film stage: from the clips of a project to one film and an editorial timeline.

- `shotc.film.media`: probe a clip, its last frame as PNG (continuity);
- `shotc.film.cut`: join the cut's clips into one MP4 (stream copy or re-encode, slates);
- `shotc.film.timeline`: the cut as OpenTimelineIO, Final Cut 7 XML or CMX 3600 EDL.

PyAV and OpenTimelineIO are imported inside these modules' functions only; importing this
package costs nothing (`check` and `build` never reach it).
"""
