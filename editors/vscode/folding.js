'use strict';
// Folding ranges for .shot text: one per SCENE (to the next SCENE), per SHOT (to the next
// SCENE, SHOT or ELEMENT) and per ELEMENT block (to a blank line, a directive or a setting
// line other than `Voice:`), following shotc/lexer.py's line classification. Pure (no
// `vscode` import) so that `node --test` can check it; extension.js registers it, which gives
// folding even before (or without) `shotc lsp`.

const DIRECTIVE = /^\s*(SCENE|SHOT|ELEMENT|INCLUDE|FIRST\s+FRAME|LAST\s+FRAME)(?=\s|$)/;
const SETTING = /^\s*[A-Za-z][A-Za-z0-9_-]*\s*:(?!\/\/)/;
const VOICE = /^\s*voice\s*:/i;

function kindOf(line) {
  if (/^\s*$/.test(line)) return 'blank';
  if (/^\s*#/.test(line)) return 'comment';
  if (/^\s*!/.test(line)) return 'prose';
  const directive = DIRECTIVE.exec(line);
  if (directive) return directive[1].split(/\s+/)[0];
  if (SETTING.test(line)) return VOICE.test(line) ? 'voice' : 'setting';
  return 'other';
}

/** [{start, end}] (0-based, inclusive line numbers) for the lines of a document. */
function foldingRanges(lines) {
  const kinds = lines.map(kindOf);
  const ranges = [];
  const close = (start, stop) => {
    // The block ends before `stop`; blank and comment lines at its end stay outside it.
    let end = stop - 1;
    while (end > start && (kinds[end] === 'blank' || kinds[end] === 'comment')) end -= 1;
    if (end > start) ranges.push({ start, end });
  };
  let scene = -1;
  let shot = -1;
  let element = -1;
  kinds.forEach((kind, index) => {
    const endsElement =
      kind === 'blank' || kind === 'setting' || (DIRECTIVE.test(lines[index]) && kind !== 'comment');
    if (element >= 0 && endsElement) {
      close(element, index);
      element = -1;
    }
    if (shot >= 0 && (kind === 'SCENE' || kind === 'SHOT' || kind === 'ELEMENT')) {
      close(shot, index);
      shot = -1;
    }
    if (kind === 'SCENE') {
      if (scene >= 0) close(scene, index);
      scene = index;
    } else if (kind === 'SHOT') {
      shot = index;
    } else if (kind === 'ELEMENT') {
      element = index;
    }
  });
  for (const start of [element, shot, scene]) {
    if (start >= 0) close(start, lines.length);
  }
  return ranges.sort((a, b) => a.start - b.start || b.end - a.end);
}

module.exports = { foldingRanges };
