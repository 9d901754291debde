import { sumGcTrace } from '../../../bench/profile/gc-trace.js';

// Shortened lines of Node 24's --trace-gc-nvp output (the real ones carry ~80 fields).
const SCAVENGE = '[23204:0x337c5000:0]     6098 ms: pause=12.6 mutator=223.4 gc=s reduce_memory=0 time_to_safepoint=0.04 scavenge=12.57 allocated=43927296 promoted=10536576 new_space_survived=0 promotion_ratio=19.5%';
const MINOR_MS = '[23204:0x337c5000:0]     7000 ms: pause=3.5 mutator=100.0 gc=mms reduce_memory=0 allocated=1000 promoted=2000';
const FULL = '[23204:0x337c5000:0]     8405 ms: pause=16.0 mutator=7784.5 gc=mc reduce_memory=1 time_to_safepoint=0.00 incremental=12.9 promoted=5076008';

describe('sumGcTrace', () => {
  test('when young and full collections are traced, then each kind is counted with its pauses, and promotion is that of the young ones', () => {
    expect(sumGcTrace([SCAVENGE, SCAVENGE, MINOR_MS, FULL])).toEqual({
      young: 3,
      youngPauseMs: 12.6 + 12.6 + 3.5,
      full: 1,
      fullPauseMs: 16,
      promotedBytes: 2 * 10536576 + 2000,
    });
  });

  test('when other output is mixed in (access lines, start-up lines), then it is ignored', () => {
    const access = '{"level":30,"msg":"access","path":"/x ms: pause=99 gc=s promoted=5"}';
    expect(sumGcTrace(['balancer listening', access, SCAVENGE])).toEqual({ young: 1, youngPauseMs: 12.6, full: 0, fullPauseMs: 0, promotedBytes: 10536576 });
  });

  test('when nothing was collected, then every total is zero', () => {
    expect(sumGcTrace([])).toEqual({ young: 0, youngPauseMs: 0, full: 0, fullPauseMs: 0, promotedBytes: 0 });
  });
});
