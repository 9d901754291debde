/**
 * Progress lines in the way kind prints them: one line when a step starts,
 * one when it ends, with its time, so a slow or failed step is plain to see
 * in a terminal and in a CI log alike.
 */
export class Status {
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  async step<T>(title: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.out.write(` • ${title} …\n`);
    try {
      const result = await work();
      this.out.write(` ✓ ${title} (${formatDuration(Date.now() - started)})\n`);
      return result;
    } catch (err) {
      this.out.write(` ✗ ${title} (${formatDuration(Date.now() - started)})\n`);
      throw err;
    }
  }

  /** A detail inside the running step (what was built, how big, how long). */
  info(message: string): void {
    this.out.write(`   ${message}\n`);
  }

  line(message: string): void {
    this.out.write(`${message}\n`);
  }
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
