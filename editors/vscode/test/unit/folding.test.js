'use strict';
// node --test: the folding ranges of extension.js's provider (folding.js is pure).
const test = require('node:test');
const assert = require('node:assert');
const { foldingRanges } = require('../../folding');

const SCRIPT = `Title: T

ELEMENT @dog: a dog
  a.png
  b.png
Sound: on

SCENE One
Mode: pro

SHOT 5s
The dog runs.

# a comment between shots
SHOT 3s
  !SHOT through glass
Wide: prose inside a shot
ELEMENT @cat: a cat
  # a comment inside the block
  Voice: soft
  c.png

SCENE Two
SHOT 5s
x
`;

test('scenes, shots and element blocks fold', () => {
  const ranges = foldingRanges(SCRIPT.split('\n'));
  assert.deepStrictEqual(ranges, [
    { start: 2, end: 4 }, // ELEMENT @dog: stops before the setting line
    { start: 7, end: 20 }, // SCENE One: trailing blank line stays out
    { start: 10, end: 11 }, // SHOT 5s: the comment before the next SHOT stays out
    { start: 14, end: 16 }, // SHOT 3s: `!SHOT` and `Wide:` are prose
    { start: 17, end: 20 }, // ELEMENT @cat: comments and Voice stay inside
    { start: 22, end: 24 }, // SCENE Two
    { start: 23, end: 24 }, // its SHOT
  ]);
});

test('a one-line block does not fold; lower-case keywords are not directives', () => {
  assert.deepStrictEqual(foldingRanges(['SHOT 5s', '', 'SHOT 3s']), []);
  assert.deepStrictEqual(foldingRanges(['scene x', 'y']), []);
  // `shot 3s` in a shot is prose (W505/E106), so the shot runs on.
  assert.deepStrictEqual(foldingRanges(['SHOT 5s', 'shot 3s', 'x']), [{ start: 0, end: 2 }]);
});
