import { describe, expect, it } from '@jest/globals';
import { describeEvidence, kindOf } from '../../cluster/balancer-evidence.js';

describe("the failover scenarios' balancer evidence", () => {
  it('counts warnings and errors by message and reason, and access lines only for 5xx and 499', () => {
    expect(kindOf({ msg: 'access', status: 504, error: 'LB_ERR_UPSTREAM_TIMEOUT', method: 'PUT', attempts: 3 })).toBe('access 504 LB_ERR_UPSTREAM_TIMEOUT (PUT, 3 attempts)');
    expect(kindOf({ msg: 'access', status: 503, method: 'POST', attempts: 1 })).toBe('access 503 from the worker (POST, 1 attempts)');
    expect(kindOf({ msg: 'access', status: 499, method: 'GET', attempts: 1 })).toBe('access 499 from the worker (GET, 1 attempts)');
    expect(kindOf({ msg: 'access', status: 404, method: 'GET', attempts: 1 })).toBeUndefined();
    expect(kindOf({ msg: 'access', status: 200, method: 'GET', attempts: 2 })).toBeUndefined();
    expect(kindOf({ level: 40, msg: 'upstream try failed', reason: 'timeout' })).toBe('warn: upstream try failed (timeout)');
    expect(kindOf({ level: 50, msg: 'discovery failed' })).toBe('error: discovery failed');
    expect(kindOf({ level: 30, msg: 'endpoint added' })).toBeUndefined();
  });

  it('says how much it read, so that "nothing" is told apart from "read nothing"', () => {
    expect(describeEvidence({ counts: new Map(), pods: 2, linesRead: 0 })).toBe('of 0 log lines from 2 pods: nothing at warn or above, no 5xx');
    const counts = new Map([
      ['warn: retry budget exhausted', 1],
      ['access 504 LB_ERR_UPSTREAM_TIMEOUT (PUT, 1 attempts)', 3],
    ]);
    expect(describeEvidence({ counts, pods: 2, linesRead: 900 })).toBe('of 900 log lines from 2 pods: 3 × access 504 LB_ERR_UPSTREAM_TIMEOUT (PUT, 1 attempts), 1 × warn: retry budget exhausted');
  });
});
