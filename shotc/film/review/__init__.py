"""The review page (`shotc review`): what the project holds, scene by scene, with every take
playable and a "use in cut" button.

- `model.py`: the page's data (scenes, shots, frames, state, cost, takes), plain dataclasses
  turned into JSON; built from the script and the ledger by `project.py`;
- `page.py`: the HTML, CSS and script of the page (one self-contained file, no external assets);
- `server.py`: a loopback HTTP server (standard library) for the page, its data, the clips (with
  range requests, so the browser can seek) and picks; `static.py`: the page as files.
"""
