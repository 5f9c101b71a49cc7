import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRole, isStrictSubrole, roleAncestors } from '../../src/resources/index.js';

test('role validation (RES-05)', () => {
  for (const ok of ['*', 'eng', 'eng/backend/db', 'a.b', 'a-b', '_x', 'x*y']) assert.equal(validateRole(ok), undefined, ok);
  const bad: Array<[string, RegExp]> = [
    ['', /Empty/], ['/a', /start with a slash/], ['a/', /end with a slash/], ['a//b', /adjacent slashes/],
    ['.', /'\.'/], ['a/..', /'\.\.'/], ['a/*', /'\*'/], ['-a', /dash/], ['a/-b', /dash/],
    ['a b', /invalid characters/], ['a\tb', /invalid characters/], ['a\x7f', /invalid characters/],
  ];
  for (const [role, re] of bad) assert.match(validateRole(role) ?? 'valid', re, JSON.stringify(role));
});

test('role tree helpers', () => {
  assert.ok(isStrictSubrole('a/b', 'a'));
  assert.ok(isStrictSubrole('a/b/c', 'a'));
  assert.ok(!isStrictSubrole('a', 'a'));
  assert.ok(!isStrictSubrole('ab', 'a'));
  assert.ok(!isStrictSubrole('a', 'a/b'));
  assert.deepEqual(roleAncestors('a/b/c'), ['a/b', 'a']);
  assert.deepEqual(roleAncestors('a'), []);
});
