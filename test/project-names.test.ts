import { describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nameFromPythonProject, nameFromSource } from '../src/constraints/project-names.js';
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
    // Forge archives name the repository, not the file.
    [
      'https://github.com/openstack/python-openstackclient/archive/refs/tags/7.1.5.tar.gz',
      'python-openstackclient',
    ],
    ['https://github.com/openstack/nova/archive/master.zip', 'nova'],
    ['https://opendev.org/openstack/keystone/archive/stable/2024.2.tar.gz', 'keystone'],
    ['https://codeload.github.com/openstack/glance/tar.gz/refs/tags/30.0.0', 'glance'],
    ['https://gitlab.com/someone/osc-plugin/-/archive/v1.0/osc-plugin-v1.0.tar.gz', 'osc-plugin'],
    // pip's VCS URLs, with a ref and without #egg=.
    ['git+https://opendev.org/openstack/osc-lib@stable/2024.2', 'osc-lib'],
    ['git+https://github.com/openstack/oslo.config.git@18.0.0', 'oslo.config'],
    ['git+ssh://git@github.com/openstack/nova.git@master', 'nova'],
    ['git@github.com:openstack/neutron.git', 'neutron'],
    // Archives and wheels named with a version.
    [
      'https://files.pythonhosted.org/packages/ab/cd/python_openstackclient-7.1.5.tar.gz',
      'python_openstackclient',
    ],
    ['https://example.org/dist/osc_lib-3.0.0-py3-none-any.whl', 'osc_lib'],
    ['https://example.org/dist/keystone-26.0.0.0rc1.tar.gz', 'keystone'],
    ['https://example.org/dist/oslo.messaging-14.9.0.tar.gz', 'oslo.messaging'],
    // Found by a review of real snaps: branch and end-of-life tarballs, GitHub's other archive
    // links, a repository whose distribution has another name, PEP 508 direct references.
    ['https://tarballs.opendev.org/openstack/nova/nova-unmaintained-2023.1.tar.gz', 'nova'],
    ['https://tarballs.opendev.org/openstack/keystone/keystone-ocata-eol.tar.gz', 'keystone'],
    ['https://github.com/openstack/python-openstackclient/tarball/7.1.5', 'python-openstackclient'],
    ['https://api.github.com/repos/openstack/nova/tarball/master', 'nova'],
    ['https://opendev.org/openstack/keystoneauth/archive/master.tar.gz', 'keystoneauth1'],
    ['osc-lib @ git+https://opendev.org/openstack/osc-lib@stable/2025.1', 'osc-lib'],
    ['oslo.config[fixtures] @ file:///srv/oslo.config', 'oslo.config'],
  ])('%s -> %s', (source, name) => {
    expect(nameFromSource(source, '/nonexistent')).toBe(name);
  });

  it('cannot tell from an arbitrary download URL, and says nothing rather than guess', () => {
    expect(nameFromSource('http://xmlsoft.org/sources/', '/nonexistent')).toBeUndefined();
    // A project in a subdirectory of a remote repository is not the repository's.
    expect(
      nameFromSource(
        'https://github.com/canonical/snap-openstack',
        '/nonexistent',
        'sunbeam-python',
      ),
    ).toBeUndefined();
    expect(
      nameFromSource(
        'git+https://github.com/canonical/snap-openstack@main#subdirectory=sunbeam-python',
        '/x',
      ),
    ).toBeUndefined();
    expect(nameFromSource('lp:keystone', '/nonexistent')).toBeUndefined();
    expect(nameFromSource('https://example.org/download?id=12', '/nonexistent')).toBeUndefined();
  });

  it('reads a local sdist by its file name, and setup.cfg keys in any case or on the next line', () => {
    expect(nameFromSource('dist/keystone-26.0.0.tar.gz', '/project')).toBe('keystone');
    const dir = tempDir();
    writeFileSync(join(dir, 'setup.cfg'), '[metadata]\nNAME = upper-case\n');
    expect(nameFromPythonProject(dir)).toBe('upper-case');
    writeFileSync(join(dir, 'setup.cfg'), '[metadata]\nname =\n    continued\nsummary = x\n');
    expect(nameFromPythonProject(dir)).toBe('continued');
  });

  it('reads pyproject.toml with a TOML parser: multi-line tables, comments, Poetry', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'pyproject.toml'),
      '[build-system]\nrequires = ["pbr>=6"]\n\n[project]\n# the distribution\nname = \'osc-placement\' # single quotes\ndependencies = [\n  "name = not-this",\n]\n',
    );
    expect(nameFromPythonProject(dir)).toBe('osc-placement');
    writeFileSync(join(dir, 'pyproject.toml'), '[tool.poetry]\nname = "sunbeam-poetry"\n');
    expect(nameFromPythonProject(dir)).toBe('sunbeam-poetry');
    writeFileSync(join(dir, 'pyproject.toml'), 'this is [not toml');
    writeFileSync(join(dir, 'setup.cfg'), '[metadata]\nname = fallback-name\n');
    expect(nameFromPythonProject(dir)).toBe('fallback-name');
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
