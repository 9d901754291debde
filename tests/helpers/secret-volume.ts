import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A folder laid out the way kubelet mounts a Secret volume: `tls.crt` and
 * `tls.key` are symlinks into `..data`, itself a symlink to a timestamped
 * folder. An update writes a new timestamped folder, points a new `..data`
 * at it and renames it over the old link (one atomic rename), then removes
 * the old folder: pkg/volume/util/atomic_writer.go.
 */
export class SecretVolume {
  private generation = 0;
  private current: string | undefined;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  get certFile(): string {
    return join(this.dir, 'tls.crt');
  }

  get keyFile(): string {
    return join(this.dir, 'tls.key');
  }

  /** Publishes new contents the way kubelet does. */
  write(files: { readonly 'tls.crt': Buffer; readonly 'tls.key': Buffer }): void {
    this.generation += 1;
    const name = `..2026_12_01_00_00_${String(this.generation).padStart(2, '0')}.${process.pid}`;
    const folder = join(this.dir, name);
    mkdirSync(folder);
    for (const [file, data] of Object.entries(files)) writeFileSync(join(folder, file), data, { mode: 0o600 });
    const tmpLink = join(this.dir, '..data_tmp');
    rmSync(tmpLink, { force: true });
    symlinkSync(name, tmpLink);
    renameSync(tmpLink, join(this.dir, '..data'));
    if (this.current === undefined) {
      for (const file of Object.keys(files)) symlinkSync(join('..data', file), join(this.dir, file));
    } else {
      rmSync(join(this.dir, this.current), { recursive: true, force: true });
    }
    this.current = name;
  }
}
