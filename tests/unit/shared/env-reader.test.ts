import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, EnvReader, parseStaticEndpoint } from '../../../services/shared/index.js';

function problemsOf(fn: () => void): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('when the environment is read', () => {
  test('then defaults apply to absent and empty variables', () => {
    const r = new EnvReader({ EMPTY: '' });
    expect(r.int('MISSING', 7)).toBe(7);
    expect(r.string('EMPTY', 'fallback')).toBe('fallback');
    expect(r.bool('MISSING', true)).toBe(true);
    expect(r.list('MISSING')).toEqual([]);
    r.finish();
  });

  test('then every bad variable is reported at once, by name, with what is allowed', () => {
    const problems = problemsOf(() => {
      const r = new EnvReader({ A: '12x', B: '70000', C: 'maybe', D: 'loud', E: 'abc' });
      r.int('A', 1, { min: 0, max: 10 });
      r.port('B', 80);
      r.bool('C', false);
      r.oneOf('D', ['info', 'debug'], 'info');
      r.number('E', 0.2, { min: 0, max: 1 });
      r.finish();
    });
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/^A: .*allowed: 0\.\.10/);
    expect(problems[1]).toMatch(/^B: .*out of range/);
    expect(problems[2]).toMatch(/^C: .*allowed: true, false/);
    expect(problems[3]).toMatch(/^D: .*allowed: info, debug/);
    expect(problems[4]).toMatch(/^E: /);
  });

  test('then NAME_FILE supplies a secret from a mounted file, and an unreadable file is an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-reader-'));
    try {
      writeFileSync(join(dir, 'pw'), 's3cret\n');
      const r = new EnvReader({ PGPASSWORD_FILE: join(dir, 'pw') });
      expect(r.optionalString('PGPASSWORD')).toBe('s3cret');
      r.finish();
      const problems = problemsOf(() => {
        const bad = new EnvReader({ PGPASSWORD_FILE: join(dir, 'nope') });
        bad.optionalString('PGPASSWORD');
        bad.finish();
      });
      expect(problems[0]).toMatch(/^PGPASSWORD_FILE: cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('then lists are split on commas and trimmed', () => {
    expect(new EnvReader({ L: ' a, b ,,c ' }).list('L')).toEqual(['a', 'b', 'c']);
  });
});

describe('when a static endpoint is parsed', () => {
  test('then host:port, URLs, IPv6 and an admin port are understood', () => {
    expect(parseStaticEndpoint('127.0.0.1:8081')).toMatchObject({ id: '127.0.0.1:8081', host: '127.0.0.1', port: 8081, ready: true });
    expect(parseStaticEndpoint('http://localhost:80?admin=9091')).toMatchObject({ host: 'localhost', port: 80, adminPort: 9091 });
    expect(parseStaticEndpoint('http://[::1]:8080')).toMatchObject({ id: '[::1]:8080', host: '::1', port: 8080 });
  });

  test.each(['https://a:1', 'a', 'http://a:1/path', 'http://a:1?admin=0', ':::'])('then "%s" is refused with a coded error', (entry) => {
    expect(() => parseStaticEndpoint(entry)).toThrow(expect.objectContaining({ code: 'FLT_ERR_ENDPOINT' }));
  });
});
