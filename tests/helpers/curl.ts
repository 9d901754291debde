import { spawn } from 'node:child_process';

export interface CurlResult {
  /** curl's exit code: 0 on success, 35 for a failed TLS handshake (https://curl.se/libcurl/c/libcurl-errors.html). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the curl command line with a hard time limit (--max-time, and a kill
 * a little later should curl itself hang); loopback only.
 */
export function curl(args: readonly string[], timeoutSeconds = 10): Promise<CurlResult> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['--silent', '--show-error', '--max-time', String(timeoutSeconds), '--noproxy', '*', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const killer = setTimeout(() => child.kill('SIGKILL'), (timeoutSeconds + 5) * 1_000);
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Reads one counter or gauge value from Prometheus text (0 when the series is absent). */
export function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
