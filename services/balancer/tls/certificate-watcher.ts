import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../shared/index.js';

export interface WatcherOptions {
  /** Period of the stat poll that backs fs.watch up. */
  readonly pollMs: number;
  /** Quiet time after the last event before the files are looked at (a Secret update is several events). */
  readonly settleMs?: number;
}

/** What a file looks like through its path: following symlinks, so a swapped `..data` link shows as a new inode. */
function signatureOf(files: readonly string[]): string {
  return files
    .map((file) => {
      try {
        const st = statSync(file);
        return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

/**
 * Calls `onChange` when the certificate files change, whichever way they
 * are replaced. A Kubernetes Secret volume holds `tls.crt` -> `..data/tls.crt`
 * with `..data` a symlink to a timestamped folder; kubelet writes a new
 * folder and renames a new `..data` over the old one, so the files change
 * atomically but their own paths never see an event: the folder is watched,
 * not the files (https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-files-from-a-pod).
 * fs.watch misses events on some file systems (NFS, some overlay setups), so
 * a stat poll every `pollMs` backs it up. Either way the call is made only
 * when what the paths resolve to differs from the last look (inode, size,
 * mtime), at most once per `settleMs`: a burst of events is one reload, and
 * a refused pair is not retried until the files change again.
 */
export class CertificateWatcher {
  private readonly watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private last: string;
  private stopped = false;
  private readonly settleMs: number;

  constructor(
    private readonly files: readonly string[],
    private readonly options: WatcherOptions,
    private readonly onChange: () => void,
    private readonly logger: Logger,
  ) {
    this.last = signatureOf(files);
    this.settleMs = options.settleMs ?? 250;
  }

  start(): void {
    for (const dir of new Set(this.files.map((file) => dirname(file)))) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.schedule());
        // A removed folder or a watch the kernel dropped: the poll carries on.
        watcher.on('error', (err) => this.logger.warn({ err, dir }, 'certificate folder watch failed; relying on the stat poll'));
        this.watchers.push(watcher);
      } catch (err) {
        this.logger.warn({ err, dir }, 'cannot watch the certificate folder; relying on the stat poll');
      }
    }
    this.poll = setInterval(() => this.check(), this.options.pollMs);
    this.poll.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
    clearInterval(this.poll);
    clearTimeout(this.settle);
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => this.check(), this.settleMs);
    this.settle.unref();
  }

  private check(): void {
    if (this.stopped) return;
    const now = signatureOf(this.files);
    if (now === this.last) return;
    this.last = now;
    this.onChange();
  }
}
