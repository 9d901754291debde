import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogOutput } from '../../../services/shared/log-output.js';
import { REPO_ROOT } from '../../helpers/service-process.js';

let dir: string;
let file: string;
let fd: number;
/** Every LogOutput a test makes, written out before its fd closes (see afterEach). */
const outputs: LogOutput[] = [];

function outputOnFile(flushIntervalMs: number): LogOutput {
  const output = new LogOutput(fd, flushIntervalMs);
  outputs.push(output);
  return output;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'log-output-'));
  file = join(dir, 'out.log');
  fd = openSync(file, 'a');
});

afterEach(() => {
  // A batch left behind keeps its flush timer: fired after closeSync, it
  // would write to whatever reuses the descriptor number in this jest
  // worker (once, a later test's child-process pipe, which then failed
  // that test with "read ECONNRESET").
  for (const output of outputs.splice(0)) output.flush();
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

const written = (): string => readFileSync(file, 'utf8');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('LogOutput', () => {
  test('when a batched line is written, then it reaches the file only after the flush interval', async () => {
    const output = outputOnFile(150);
    output.batched.write('access 1\n');
    expect(written()).toBe('');
    await sleep(400);
    expect(written()).toBe('access 1\n');
  });

  test('when an immediate line follows batched ones, then all of them are written at once, in the order logged', () => {
    const output = outputOnFile(60_000);
    output.batched.write('access 1\n');
    output.batched.write('access 2\n');
    output.immediate.write('warn 3\n');
    expect(written()).toBe('access 1\naccess 2\nwarn 3\n');
    output.batched.write('access 4\n');
    expect(written()).toBe('access 1\naccess 2\nwarn 3\n');
    output.flush();
    expect(written()).toBe('access 1\naccess 2\nwarn 3\naccess 4\n');
  });

  test('when the interval is 0, then every batched line is written at once', () => {
    const output = outputOnFile(0);
    output.batched.write('access 1\n');
    expect(written()).toBe('access 1\n');
  });

  test('when 4 KiB of lines are batched, then they are written without waiting for the interval', () => {
    const output = outputOnFile(60_000);
    const line = `${'x'.repeat(99)}\n`;
    for (let i = 0; i < 41; i++) output.batched.write(line);
    // 40 lines (4 000 bytes) fit in one batch; the 41st would pass 4 096 bytes, so the 40 go first.
    expect(written()).toBe(line.repeat(40));
  });
});

/**
 * A child process writing through LogOutput on its own stdout, the compiled
 * module (pretest builds dist/), so that process exit and pipes are real.
 */
function runChild(body: string): Promise<{ code: number | null; stdout: string }> {
  const module = join(REPO_ROOT, 'dist/services/shared/log-output.js');
  const source = `import { stdoutLogOutput } from ${JSON.stringify(module)};\n${body}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

describe('stdoutLogOutput', () => {
  test('when the process calls process.exit, then the batched lines are written first', async () => {
    const { code, stdout } = await runChild(`const out = stdoutLogOutput(60000); out.batched.write('a\\n'); out.batched.write('b\\n'); process.exit(3);`);
    expect(code).toBe(3);
    expect(stdout).toBe('a\nb\n');
  });

  test('when the process dies of an uncaught exception, then the batched lines are written', async () => {
    const { code, stdout } = await runChild(`const out = stdoutLogOutput(60000); out.batched.write('before the crash\\n'); setTimeout(() => { throw new Error('boom'); }, 10);`);
    expect(code).toBe(1);
    expect(stdout).toBe('before the crash\n');
  });

  test('when two processes batch lines into one pipe at once, then no line is split by the other process', async () => {
    // Lines of 1–700 bytes, written as fast as possible by two processes into
    // the same pipe (a container's stdout): every line read back must be whole.
    const writer = `const out = stdoutLogOutput(5); for (let i = 0; i < 20000; i++) out.batched.write(JSON.stringify({ p: process.pid, i, pad: 'y'.repeat((i * 37) % 700) }) + '\\n');`;
    const module = join(REPO_ROOT, 'dist/services/shared/log-output.js');
    const source = `import { stdoutLogOutput } from ${JSON.stringify(module)};\n${writer}`;
    const child = spawn('/bin/sh', ['-c', `"$0" --input-type=module -e "$1" & "$0" --input-type=module -e "$1" & wait`, process.execPath, source], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    // A slow reader, so that the pipe fills and the writers block in the middle of their batches.
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 1);
    });
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', () => resolve());
    });
    const lines = stdout.split('\n').filter((l) => l !== '');
    const broken = lines.filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(broken).toEqual([]);
    expect(lines).toHaveLength(40_000);
  }, 60_000);
});
