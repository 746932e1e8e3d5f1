import { describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nameFromPythonProject, nameFromSource } from '../src/project-names.js';
import { tempDir } from './helpers/fixtures.js';

describe('the project a python part builds from source', () => {
  it.each([
    ['http://tarballs.openstack.org/keystone/keystone-stable-ocata.tar.gz', 'keystone'],
    ['http://tarballs.openstack.org/nova/nova-stable-rocky.tar.gz', 'nova'],
    ['http://tarballs.openstack.org/tempest/tempest-14.0.0.tar.gz', 'tempest'],
    ['http://tarballs.openstack.org/neutron/neutron-master.tar.gz', 'neutron'],
    [
      'https://tarballs.opendev.org/openstack/python-openstackclient/python-openstackclient-7.1.0.tar.gz',
      'python-openstackclient',
    ],
    ['git+https://github.com/openstack/snap.openstack#egg=snap.openstack', 'snap.openstack'],
    ['https://opendev.org/openstack/horizon.git', 'horizon'],
    ['https://github.com/openstack/keystonemiddleware', 'keystonemiddleware'],
  ])('%s -> %s', (source, name) => {
    expect(nameFromSource(source, '/nonexistent')).toBe(name);
  });

  it('cannot tell from an arbitrary download URL, and says nothing rather than guess', () => {
    expect(nameFromSource('http://xmlsoft.org/sources/', '/nonexistent')).toBeUndefined();
  });

  it('reads pyproject.toml, else setup.cfg, of a local source with source-subdir', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sunbeam-python'));
    writeFileSync(
      join(dir, 'sunbeam-python/setup.cfg'),
      '[metadata]\nname = sunbeam\nversion = 1\n',
    );
    expect(nameFromSource('.', dir, 'sunbeam-python/')).toBe('sunbeam');
    writeFileSync(
      join(dir, 'sunbeam-python/pyproject.toml'),
      '[build-system]\nrequires = []\n[project]\nname = "openstack-sunbeam"\n',
    );
    expect(nameFromSource('.', dir, 'sunbeam-python/')).toBe('openstack-sunbeam');
    expect(nameFromPythonProject(join(dir, 'missing'))).toBeUndefined();
  });
});
