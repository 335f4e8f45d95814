"""The review page's data from the script and the ledger (`shotc review`).

`ReviewLoader` is what the server calls on each page load and poll (at most every half second,
see `server.CACHE_SECONDS`), so it is built to be cheap: the script is compiled again only
when one of its files changed (`ScriptCache`), and the ledger is read in a few queries by
`FilmProject`. Every scene in script order: title, id, shots (seconds and compiled prompt),
frames (local images served as thumbnails; `FIRST FRAME after X` shows X's last frame once it
exists), state (new, running with elapsed time, failed with its reason, ...), its estimated
cost in credits and dollars, and every take of its current version with mode, take number,
task id and whether it is in the cut.
"""

from __future__ import annotations

from pathlib import Path

from shotc.film.review.model import Frame, Project, Scene, Shot, Take
from shotc.film.review.server import PickRefused
from shotc.film.script import SceneInfo, ScriptCache

# kie-api.md: "1 credit = 0.005 USD" (kie.ai's own price list, Jul 2026). `usd_per_credit` in
# shotc.toml overrides it where this shotc's configuration has that setting.
DEFAULT_USD_PER_CREDIT = 0.005
AFTER = "shotc://after/"  # the continuity placeholder (language-1.1.md §4)


class ReviewLoader:
    """`load()`: the review Project now; `pick(scene, take, mode)`: record a pick."""

    def __init__(self, script: Path, *, can_pick: bool = True) -> None:
        self.script = script.resolve()
        self.cache = ScriptCache(self.script)
        self.can_pick = can_pick

    def _config(self) -> tuple[object, float]:
        from shotc.allow import find_config
        from shotc.run.config import load_config

        config = load_config(find_config(None, [self.script]))
        usd = getattr(config, "usd_per_credit", None)
        return config, float(usd) if isinstance(usd, int | float) else DEFAULT_USD_PER_CREDIT

    def load(self) -> Project:
        from shotc.film.project import FilmProject
        from shotc.run.config import Config, estimate_request

        script = self.cache.get()
        config, usd_rate = self._config()
        assert isinstance(config, Config)
        project = Project(script.film_title, self.script.name, can_pick=self.can_pick)
        with FilmProject.open(script) as film:
            views = film.review_scenes()
        render_root = film.render_dir
        for info in script.scenes:
            view = views[info.scene_id]
            try:
                credits: float | None = estimate_request(config, info.compiled.request)[3]
            except Exception:  # a mode without a price in shotc.toml: shown as unknown
                credits = None
            takes = tuple(
                Take(
                    t.take,
                    t.mode,
                    t.task_id,
                    project.add_media(t.path) if t.path is not None else None,
                    t.state,
                    draft=t.draft,
                    in_cut=t.in_cut,
                )
                for t in view.takes
            )
            project.scenes.append(
                Scene(
                    info.scene_id,
                    info.title,
                    tuple(Shot(s.seconds, s.prompt) for s in info.shots),
                    _frames(info, project, render_root),
                    view.state,
                    info.seconds,
                    info.mode,
                    credits,
                    None if credits is None else round(credits * usd_rate, 4),
                    elapsed=view.elapsed,
                    reason=view.reason,
                    takes=takes,
                )
            )
        return project

    def pick(self, scene: str, take: int, mode: str) -> None:
        from shotc.film.project import FilmProject
        from shotc.film.takes import PickError

        script = self.cache.get()
        try:
            with FilmProject.open(script) as film:
                film.pick(scene, take, mode)
        except PickError as exc:
            raise PickRefused(str(exc)) from None


def _frames(info: SceneInfo, project: Project, render_root: Path) -> tuple[Frame, ...]:
    frames = []
    for f in info.frames:
        if f.path is not None:
            media = project.add_media(f.path) if f.path.is_file() else None
            frames.append(Frame(f.which, f.label, media))
        elif f.url is not None and f.url.startswith(AFTER):
            source = f.url[len(AFTER) :]
            last = render_root / source / "last-frame.png"
            media = project.add_media(last) if last.is_file() else None
            frames.append(Frame(f.which, f"after {source}", media))
        else:
            frames.append(Frame(f.which, f.label, None, f.url))
    return tuple(frames)
