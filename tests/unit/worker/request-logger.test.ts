import type { DestinationStream } from 'pino';
import { createLogger } from '../../../services/shared/logger.js';
import { requestLoggerFactory } from '../../../services/worker/request-logger.js';

/** A pino destination that keeps each line, with the time field removed (two loggers write at different instants). */
function lines(): { readonly stream: DestinationStream; readonly written: () => unknown[] } {
  const kept: string[] = [];
  return {
    stream: { write: (line: string) => void kept.push(line) },
    written: () =>
      kept.map((line) => {
        const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
        return rest;
      }),
  };
}

describe('the per-request logger', () => {
  test('when it writes, then its lines are those a pino child with the same bindings writes, redaction included', () => {
    const viaChild = lines();
    const viaRequestLogger = lines();
    const bindings = { requestId: 'req-1' };
    const child = createLogger('worker', 'debug', viaChild.stream).child(bindings, {});
    const requestLogger = requestLoggerFactory(createLogger('worker', 'debug', viaRequestLogger.stream), bindings, {});
    for (const log of [child, requestLogger]) {
      log.info('plain message');
      log.warn({ code: 'WRK_ERR_DB_TIMEOUT', config: { password: 'secret' } }, 'with fields');
      log.debug('%s of %d', 'formatted', 3);
      log.trace('below the level');
      log.error(new Error('boom'));
      log.child({ step: 'nested' }).info('from a grandchild');
    }
    expect(viaRequestLogger.written()).toEqual(viaChild.written());
    expect(viaRequestLogger.written()).toHaveLength(5);
    expect(JSON.stringify(viaRequestLogger.written())).not.toContain('secret');
  });

  test('when a request writes no line, then no pino child is made; the first line makes one, and only one', () => {
    const { stream } = lines();
    const parent = createLogger('worker', 'info', stream);
    let children = 0;
    const child = parent.child.bind(parent);
    parent.child = ((...args: Parameters<typeof child>) => {
      children += 1;
      return child(...args);
    }) as typeof parent.child;
    const requestLogger = requestLoggerFactory(parent, { requestId: 'req-2' }, {});
    expect(requestLogger.level).toBe('info');
    expect(children).toBe(0);
    requestLogger.info('first');
    requestLogger.warn('second');
    expect(children).toBe(1);
  });

  test('when its level is set, then it applies to this request only', () => {
    const { stream, written } = lines();
    const parent = createLogger('worker', 'info', stream);
    const requestLogger = requestLoggerFactory(parent, { requestId: 'req-3' }, {});
    requestLogger.level = 'debug';
    requestLogger.debug('shown');
    parent.debug('hidden');
    expect(requestLogger.level).toBe('debug');
    expect(parent.level).toBe('info');
    expect(written()).toEqual([expect.objectContaining({ msg: 'shown', requestId: 'req-3' })]);
  });
});
