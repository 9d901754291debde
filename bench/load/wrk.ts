import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWrkOutput, type LoadResult } from './wrk-parse.js';
import { wrkScript, type RequestShape } from './wrk-script.js';

export const WRK_BIN = '/usr/bin/wrk';

export interface WrkRun {
  readonly url: string;
  readonly shape: RequestShape;
  readonly connections: number;
  readonly threads: number;
  readonly durationS: number;
  /** Folder for the generated Lua script. */
  readonly scriptDir: string;
}

/** The exact command line, for RESULTS.md. */
export function wrkArgs(run: WrkRun, scriptFile: string): string[] {
  return ['-t', String(run.threads), '-c', String(run.connections), '-d', `${run.durationS}s`, '--timeout', '5s', '-s', scriptFile, run.url];
}

export async function runWrk(run: WrkRun): Promise<LoadResult> {
  const think = run.shape.thinkMs !== undefined ? `-think${run.shape.thinkMs}ms` : '';
  const name = `${run.shape.method.toLowerCase()}-${run.shape.path.replace(/[^a-z0-9]+/gi, '_')}-${run.shape.bodyBytes ?? 0}${think}.lua`;
  const scriptFile = join(run.scriptDir, name);
  writeFileSync(scriptFile, wrkScript(run.shape));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(WRK_BIN, wrkArgs(run, scriptFile), { timeout: (run.durationS + 30) * 1_000, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      if (err) reject(new Error(`wrk failed: ${err.message}\n${errOut}`, { cause: err }));
      else resolve(out);
    });
  });
  return parseWrkOutput(stdout);
}
