"use strict";
const POLL_MS = __POLL_MS__;
let current = JSON.parse(document.getElementById("model").textContent);
const rendered = new Map();  // scene id -> JSON of what is on screen

// A video gets its src when it comes near the viewport: 300 players fetching their metadata
// at once would hold the first paint of a long project back by seconds.
const near = "IntersectionObserver" in window ? new IntersectionObserver(entries => {
  for (const e of entries) if (e.isIntersecting) { near.unobserve(e.target); load(e.target); }
}, {rootMargin: "100% 0px"}) : null;
function load(video) { if (!video.getAttribute("src")) video.src = video.dataset.src; }
function watch(video) { if (near) near.observe(video); else load(video); }
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v; else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined)
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}
function prompt(text) {
  const out = el("span", {});
  let last = 0;
  for (const m of text.matchAll(/(^|[^@])(@[A-Za-z0-9_-]+)/g)) {
    const at = m.index + m[1].length;
    out.append(text.slice(last, at), el("mark", {class: "cue"}, m[2]));
    last = at + m[2].length;
  }
  out.append(text.slice(last));
  return out;
}
function money(scene) {
  if (scene.credits === null) return "cost unknown";
  let s = "~" + Math.round(scene.credits).toLocaleString("en") + " credits";
  if (scene.usd !== null) s += " (~$" + scene.usd.toFixed(2) + ")";
  return s + " est.";
}
function elapsed(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}
function sceneNode(scene, index) {
  const meta = el("div", {class: "meta"},
    el("span", {class: "state " + scene.state, "data-state": scene.state}, scene.state),
    el("span", {}, scene.seconds + "s · " + scene.mode),
    el("span", {class: "cost"}, money(scene)));
  if (scene.elapsed !== null && scene.state === "running")
    meta.append(el("span", {class: "elapsed", "data-since": String(Date.now() / 1000 - scene.elapsed)},
      elapsed(scene.elapsed)));
  if (scene.reason) meta.append(el("span", {class: "reason"}, scene.reason));
  const shots = el("ol", {class: "shots"});
  for (const shot of scene.shots)
    shots.append(el("li", {}, el("span", {class: "dur"}, shot.seconds === null ? "?" : shot.seconds + "s"),
      prompt(shot.prompt)));
  const frames = el("div", {class: "frames"});
  for (const f of scene.frames) {
    const label = f.which + " frame: " + f.label;
    frames.append(el("figure", {}, f.src ? el("img", {src: f.src, alt: label, loading: "lazy"})
      : (f.url ? el("a", {href: f.url, rel: "noreferrer"}, "link") : null), el("figcaption", {}, label)));
  }
  const takes = el("div", {class: "takes"});
  for (const t of scene.takes) {
    const caption = el("figcaption", {},
      el("span", {}, "take " + t.take + " · " + t.mode + (t.draft ? " (draft)" : ""), " ",
        el("span", {class: "task"}, t.task_id || "")),
      t.in_cut ? el("span", {class: "badge"}, "in cut") : null);
    if (current.can_pick && t.src && !t.in_cut) {
      const button = el("button", {class: "pick", type: "button",
        "data-take": String(t.take), "data-mode": t.mode}, "use in cut");
      button.addEventListener("click", () => pick(scene.scene_id, t.take, t.mode, button));
      caption.append(button);
    }
    const player = t.src ? el("video", {controls: true, preload: "metadata", "data-src": t.src,
      "data-take": String(t.take)}) : el("div", {class: "empty"}, t.state);
    if (t.src) watch(player);
    takes.append(el("figure", {class: "take" + (t.in_cut ? " in-cut" : ""), "data-take": String(t.take),
      "data-mode": t.mode}, player, caption));
  }
  if (!scene.takes.length) takes.append(el("div", {class: "empty"}, "no takes yet"));
  return el("section", {class: "scene", id: "scene-" + scene.scene_id, "data-scene": scene.scene_id},
    el("h2", {}, (index + 1) + ". " + scene.title), el("span", {class: "id"}, scene.scene_id),
    meta, shots, frames.childElementCount ? frames : null, takes);
}
function render(model) {
  current = model;
  document.title = model.title + " · shotc review";
  document.getElementById("title").textContent = model.title;
  const done = model.scenes.filter(s => s.state === "done").length;
  const credits = model.scenes.reduce((a, s) => a + (s.credits || 0), 0);
  document.getElementById("totals").textContent = model.scenes.length + " scenes · " + done +
    " done · ~" + Math.round(credits).toLocaleString("en") + " credits est. · " + model.script;
  const main = document.getElementById("scenes");
  const wanted = new Set(model.scenes.map(s => s.scene_id));
  for (const [id] of rendered) if (!wanted.has(id)) {
    document.getElementById("scene-" + id)?.remove(); rendered.delete(id);
  }
  let previous = null;
  model.scenes.forEach((scene, i) => {
    const json = JSON.stringify([i, scene, model.can_pick]);
    let node = document.getElementById("scene-" + scene.scene_id);
    if (rendered.get(scene.scene_id) !== json || !node) {
      const fresh = sceneNode(scene, i);
      if (node) node.replaceWith(fresh); else main.append(fresh);
      node = fresh; rendered.set(scene.scene_id, json);
    }
    const expected = previous ? previous.nextElementSibling : main.firstElementChild;
    if (expected !== node) (previous ? previous.after(node) : main.prepend(node));
    previous = node;
  });
}
async function pick(scene, take, mode, button) {
  button.disabled = true;
  try {
    const answer = await fetch("/api/pick", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({scene: scene, take: take, mode: mode})});
    const body = await answer.json();
    if (!answer.ok) { alert(body.error || "the pick was refused"); button.disabled = false; return; }
    render(body);
  } catch (e) { button.disabled = false; }
}
async function poll() {
  try {
    const answer = await fetch("/api/project?since=" + encodeURIComponent(current.revision));
    if (answer.status === 200) render(await answer.json());
  } catch (e) { /* the server stopped: keep what is shown */ }
  setTimeout(poll, POLL_MS);
}
function tick() {
  for (const node of document.querySelectorAll(".elapsed[data-since]"))
    node.textContent = elapsed(Date.now() / 1000 - Number(node.dataset.since));
}
render(current);
setInterval(tick, 1000);
if (current.can_pick) setTimeout(poll, POLL_MS);
