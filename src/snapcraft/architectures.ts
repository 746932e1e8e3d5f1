import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { ConfigurationError } from '../platform/index.js';
import { parseSnapcraftYaml, type SnapcraftProject } from './yaml.js';

/** Debian architecture names snapcraft and the store use. */
export const KNOWN_ARCHES = [
  'amd64',
  'arm64',
  'armhf',
  'ppc64el',
  's390x',
  'riscv64',
  'i386',
] as const;

/** One way the snap is built: on `buildOn` hosts, producing a snap for `buildFor`. */
export interface BuildTarget {
  /** The platform name (core24+ platforms key), else the build-for arch. */
  readonly platform: string;
  readonly buildOn: string[];
  readonly buildFor: string;
}

export interface SnapArchitectures {
  /** False when snapcraft.yaml says nothing: the snap builds for whatever host builds it. */
  readonly declared: boolean;
  readonly targets: BuildTarget[];
}

/**
 * What snapcraft.yaml says the snap builds for, in every form: none (host arch), legacy strings,
 * core20 build-on/run-on, core22 build-on/build-for, core24+ platforms.
 */
export function snapArchitectures(project: SnapcraftProject): SnapArchitectures {
  const root = project.document.contents as YAMLMap;
  const file = project.file;
  const platforms = root.get('platforms', true);
  const architectures = root.get('architectures', true);
  if (platforms !== undefined && platforms !== null) {
    if (!isMap(platforms))
      throw new ConfigurationError(
        `${file}: 'platforms' must map platform names to build-on/build-for.`,
      );
    return {
      declared: true,
      targets: platforms.items.map((pair) =>
        platformTarget(String(isScalar(pair.key) ? pair.key.value : pair.key), pair.value, file),
      ),
    };
  }
  if (architectures === undefined || architectures === null)
    return { declared: false, targets: [] };
  if (!isSeq(architectures))
    throw new ConfigurationError(`${file}: 'architectures' must be a list.`);
  const targets: BuildTarget[] = [];
  for (const item of architectures.items) {
    if (isScalar(item)) {
      const arch = checkArch(String(item.value), file);
      targets.push({ platform: arch, buildOn: [arch], buildFor: arch });
      continue;
    }
    if (!isMap(item))
      throw new ConfigurationError(
        `${file}: each 'architectures' entry must be an arch or a build-on map.`,
      );
    const buildOn = archList(item.get('build-on', true), file, 'build-on');
    const runOn = item.get('build-for', true) ?? item.get('run-on', true);
    const buildFor = runOn === undefined ? buildOn : archList(runOn, file, 'build-for');
    if (buildOn.length === 0)
      throw new ConfigurationError(`${file}: an 'architectures' entry has no build-on.`);
    // run-on/build-for 'all' makes one arch-independent snap, built on the first build-on arch.
    for (const arch of buildFor.length === 1 && buildFor[0] === 'all' ? ['all'] : buildFor) {
      targets.push({ platform: arch, buildOn, buildFor: arch });
    }
  }
  return { declared: true, targets };
}

function platformTarget(name: string, value: unknown, file: string): BuildTarget {
  if (value === null || value === undefined || (isScalar(value) && value.value === null)) {
    // `amd64:` alone: the name is the arch, built on and for it.
    const arch = checkArch(
      name,
      file,
      `platform '${name}' has no build-on/build-for, so its name must be an architecture`,
    );
    return { platform: name, buildOn: [arch], buildFor: arch };
  }
  if (!isMap(value))
    throw new ConfigurationError(
      `${file}: platform '${name}' must be empty or a build-on/build-for map.`,
    );
  const buildOn = archList(value.get('build-on', true), file, `platforms.${name}.build-on`);
  const buildForList = value.has('build-for')
    ? archList(value.get('build-for', true), file, `platforms.${name}.build-for`)
    : buildOn;
  if (buildOn.length === 0)
    throw new ConfigurationError(`${file}: platform '${name}' has no build-on.`);
  if (buildForList.length !== 1) {
    throw new ConfigurationError(
      `${file}: platform '${name}' must build for exactly one architecture (build-for: [${buildForList.join(', ')}]).`,
    );
  }
  return { platform: name, buildOn, buildFor: buildForList[0]! };
}

function archList(node: unknown, file: string, where: string): string[] {
  const values = isSeq(node)
    ? node.items.map((i) => (isScalar(i) ? String(i.value) : ''))
    : isScalar(node)
      ? [String(node.value)]
      : [];
  return values.map((v) => (v === 'all' ? v : checkArch(v, file, `${where} names '${v}'`)));
}

export function checkArch(arch: string, file: string, context?: string): string {
  if (!(KNOWN_ARCHES as readonly string[]).includes(arch)) {
    throw new ConfigurationError(
      `${file}: ${context ?? `'${arch}'`} is not an architecture snapcraft knows (${KNOWN_ARCHES.join(', ')}); note ppc64el, not ppc64le.`,
    );
  }
  return arch;
}

/**
 * snapcraft.yaml's text with its `platforms` or `architectures` cut to the one target, for a build
 * service that builds everything the file declares (Launchpad) and a snapcraft that refuses
 * `--build-for` beside them (8.4-8.6, and shorthand platforms until 8.12). Byte surgery on that
 * one value (written in flow style); the result is re-parsed and proved to declare exactly the
 * target. A file that declares nothing is returned as it is (`--build-for` picks the arch).
 */
export function singleTargetYaml(project: SnapcraftProject, target: BuildTarget): string {
  const root = project.document.contents as YAMLMap;
  const key = root.has('platforms')
    ? 'platforms'
    : root.has('architectures')
      ? 'architectures'
      : null;
  if (!key) return project.text;
  const pair = root.items.find((p) => isScalar(p.key) && p.key.value === key);
  const keyEnd = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[1];
  const value = pair?.value as { range?: [number, number, number] } | null | undefined;
  if (keyEnd === undefined || !value?.range) return project.text;
  // Quoted always: PyYAML reads YAML 1.1, where a bare `on` or `2024.1` is no platform name.
  const name = JSON.stringify(target.platform);
  const entry = `{build-on: [${target.buildOn.join(', ')}], build-for: [${target.buildFor}]}`;
  const rendered = key === 'platforms' ? `{${name}: ${entry}}` : `[${entry}]`;
  const [start, end] = value.range;
  // The new value goes on the key's line (a block value may be an indentless sequence at the
  // key's own column). The old one runs to the blank and comment lines after it: those stay, and
  // so does one line break, so the next key keeps its line.
  const lines = project.text.slice(start, end).split(/(?<=\n)/);
  let cut = lines.length;
  while (cut > 0 && /^[ \t]*(#.*)?\r?\n?$/.test(lines[cut - 1]!)) cut--;
  const eol = project.text.includes('\r\n') ? '\r\n' : '\n';
  const tail = /\n$/.test(lines.slice(0, cut).join('')) ? eol : '';
  const text =
    project.text.slice(0, keyEnd) +
    `: ${rendered}` +
    tail +
    lines.slice(cut).join('') +
    project.text.slice(end);
  const targets = snapArchitectures(
    parseSnapcraftYaml(text, project.file, project.projectDir),
  ).targets;
  if (
    targets.length !== 1 ||
    targets[0]!.buildFor !== target.buildFor ||
    targets[0]!.platform !== target.platform
  )
    throw new ConfigurationError(
      `${project.file}: cannot cut its ${key} down to ${target.platform} for the remote build.`,
    );
  return text;
}
