import { describe, expect, it } from '@jest/globals';
import { runCli } from '../../helpers/local-run.js';

/** Bad input needs no running system: each case must fail fast with a coded message and the right exit status. */
describe('CLI usage errors', () => {
  const cases: [string, string[], number, string][] = [
    ['an unknown command', ['frobnicate'], 2, 'CLI_ERR_USAGE'],
    ['an unknown subcommand', ['kv', 'fetch', 'a'], 2, 'CLI_ERR_USAGE'],
    ['a command group without subcommand', ['counter'], 2, 'CLI_ERR_USAGE'],
    ['a missing argument', ['kv', 'get'], 2, 'CLI_ERR_USAGE'],
    ['an unknown flag', ['kv', 'get', 'a', '--frob'], 2, 'CLI_ERR_USAGE'],
    ['a value that is not JSON', ['kv', 'put', 'a', 'hello'], 2, 'CLI_ERR_USAGE'],
    ['a bad concurrency', ['load', '--concurrency', '0'], 2, 'CLI_ERR_USAGE'],
    ['a bad duration', ['load', '--duration', 'soon'], 2, 'CLI_ERR_USAGE'],
    ['both bounds', ['load', '--duration', '1s', '--requests', '5'], 2, 'CLI_ERR_USAGE'],
    ['a bad mix', ['load', '--mix', 'put=1,explode=2'], 2, 'CLI_ERR_USAGE'],
    ['a bad chaos mode', ['load', '--chaos', 'nuke'], 2, 'CLI_ERR_USAGE'],
    ['a bad URL', ['kv', 'get', 'a', '--url', 'ftp://x'], 2, 'CLI_ERR_USAGE'],
  ];

  it.each(cases)('when given %s, then it exits %s with %s on stderr', async (_name, args, code, errorCode) => {
    const result = await runCli(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(errorCode);
    expect(result.stderr).toMatch(/^flotilla: /);
    expect(result.stdout).toBe('');
  });

  it('when the balancer is unreachable, then commands say so and exit 1', async () => {
    for (const args of [['kv', 'get', 'a'], ['counter', 'incr', 'c'], ['load', '--duration', '1s'], ['cluster', '--admin-url', 'http://127.0.0.1:1']]) {
      const result = await runCli([...args, '--url', 'http://127.0.0.1:1']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('CLI_ERR_UNREACHABLE');
      expect(result.stderr).toContain('cannot reach http://127.0.0.1:1');
    }
  }, 60_000);

  it('when --chaos is asked for without a local run, then it refuses with exit 2', async () => {
    const result = await runCli(['load', '--chaos', 'kill', '--state-file', '/nonexistent/local-run.json', '--url', 'http://127.0.0.1:1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CLI_ERR_NO_LOCAL_RUN');
  });

  it('when asked for help, then it lists the commands and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['kv get', 'kv put', 'kv del', 'kv list', 'counter incr', 'cluster', 'load']) expect(result.stdout).toContain(command);
  });
});
