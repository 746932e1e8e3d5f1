import { closeSync, openSync, readSync } from 'node:fs';
import { machine } from 'node:os';

// ELF e_machine values -> Debian architecture (with the byte order that goes with it).
const MACHINES: Record<number, { arch: string; littleEndian?: boolean }> = {
  3: { arch: 'i386' },
  40: { arch: 'armhf' },
  62: { arch: 'amd64' },
  183: { arch: 'arm64' },
  21: { arch: 'ppc64el', littleEndian: true },
  22: { arch: 's390x' },
  243: { arch: 'riscv64' },
};

/** The Debian architecture of an ELF file, or null when the file is not ELF. */
export function elfArch(file: string): string | null {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  let read: number;
  try {
    read = readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (read < 20 || header.readUInt32BE(0) !== 0x7f454c46) return null;
  const littleEndian = header[5] === 1;
  const machine = littleEndian ? header.readUInt16LE(18) : header.readUInt16BE(18);
  const known = MACHINES[machine];
  if (!known) return `unknown(e_machine ${machine})`;
  if (known.littleEndian !== undefined && known.littleEndian !== littleEndian)
    return `${known.arch}-wrong-endian`;
  return known.arch;
}

/** `uname -m` (also LXD's architecture names) -> Debian architecture. */
export const UNAME_ARCH: Readonly<Record<string, string>> = {
  x86_64: 'amd64',
  aarch64: 'arm64',
  ppc64le: 'ppc64el',
  s390x: 's390x',
  riscv64: 'riscv64',
  armv7l: 'armhf',
  armv8l: 'armhf',
  i686: 'i386',
};

/** This machine's Debian architecture (its `uname -m` where the table has no name for it). */
export function hostArch(): string {
  return UNAME_ARCH[machine()] ?? machine();
}
