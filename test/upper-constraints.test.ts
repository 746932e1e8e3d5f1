import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  constrainedNames,
  normalizePackageName,
  parseConstraints,
  removePackages,
} from '../src/constraints/upper-constraints.js';
import { findFiles, fixture } from './helpers/fixtures.js';

const files = findFiles('upper-constraints.txt');

describe('upper-constraints.txt', () => {
  it('has real files from every kind of ref to test against', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)('%s: every non-comment line is a constraint', (file) => {
    const text = readFileSync(fixture(file), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    const constraints = parseConstraints(text);
    expect(constraints).toHaveLength(lines.length);
    for (const c of constraints) expect(c.version).toMatch(/^[0-9]/);
  });

  it('normalises names as PEP 503 does', () => {
    expect(normalizePackageName('oslo.config')).toBe('oslo-config');
    expect(normalizePackageName('Oslo_Config')).toBe('oslo-config');
    expect(normalizePackageName('XStatic-Angular-Bootstrap')).toBe('xstatic-angular-bootstrap');
    expect(normalizePackageName('zope..interface')).toBe('zope-interface');
  });

  it('removes every marker variant of a name, in any spelling, and nothing else', () => {
    const text = readFileSync(
      fixture('openstack/requirements/ocata-eol/upper-constraints.txt'),
      'utf8',
    );
    const markerNames = parseConstraints(text).filter((c) => c.marker);
    expect(markerNames.length).toBeGreaterThan(0);
    const victim = markerNames[0]!.name;
    const variants = parseConstraints(text).filter(
      (c) => normalizePackageName(c.name) === normalizePackageName(victim),
    );
    const spelled = victim.toUpperCase().replace(/-/g, '_');
    const result = removePackages(text, [spelled, 'tempest']);
    expect(result.removed).toHaveLength(variants.length + 1);
    expect(result.removed).toContain('tempest===14.0.0');
    expect(constrainedNames(result.text).has(normalizePackageName(victim))).toBe(false);
    expect(constrainedNames(result.text).has('tempest-lib')).toBe(true);
    expect(result.text.split('\n').length).toBe(text.split('\n').length - result.removed.length);
  });

  it('keeps the WARNING comment block of master and new branches', () => {
    const text = readFileSync(
      fixture('openstack/requirements/master/upper-constraints.txt'),
      'utf8',
    );
    const result = removePackages(text, ['horizon', 'python-openstackclient']);
    expect(result.removed).toEqual(['horizon===26.0.0', 'python-openstackclient===10.2.1']);
    expect(result.text.startsWith('# WARNING')).toBe(true);
  });

  it('removes nothing for names that are not pinned', () => {
    const text = readFileSync(
      fixture('openstack/requirements/stable/2025.1/upper-constraints.txt'),
      'utf8',
    );
    expect(removePackages(text, ['keystone', 'snap.openstack'])).toEqual({ text, removed: [] });
  });
});
