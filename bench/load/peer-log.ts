// A peer's own log lines: pino JSON from our services, plain text from nginx and HAProxy.

/** Groups log lines by pino `msg` (our services) or by their text (nginx, HAProxy). */
export function countMessages(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) {
    let key = line.slice(0, 100);
    try {
      const msg = (JSON.parse(line) as { msg?: unknown }).msg;
      if (typeof msg === 'string') key = msg;
    } catch {
      // not JSON
    }
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** performance.now() of the first line at or after `from` that arrived after `after` and matches. */
export function firstLineTime(lines: readonly string[], times: readonly number[], from: number, after: number, match: RegExp): number | undefined {
  for (let i = from; i < lines.length; i++) {
    const time = times[i];
    if (time !== undefined && time >= after && match.test(lines[i] ?? '')) return time;
  }
  return undefined;
}
