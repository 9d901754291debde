import { LoadStats } from '../../../services/client/load/stats.js';

describe('when the load generator counts answers', () => {
  test('then the error window runs from the first error to the last, in ms since the start', () => {
    let now = 0;
    const stats = new LoadStats(() => now);
    now = 100;
    stats.record('get', undefined);
    expect(stats.errorWindow()).toBeNull();
    now = 1_250.4;
    stats.record('put', 'http_503');
    now = 1_900;
    stats.record('get', undefined);
    now = 2_600;
    stats.record('incr', 'connection_reset');
    expect(stats.errorWindow()).toEqual({ firstMs: 1_250, lastMs: 2_600 });
    expect(stats.errorBreakdown()).toEqual({ http_503: 1, connection_reset: 1 });
    expect([stats.requests, stats.errors]).toEqual([4, 2]);
  });
});
