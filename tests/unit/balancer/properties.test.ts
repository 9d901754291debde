import fc from 'fast-check';
import { HOP_BY_HOP, RetryBudget, forwardableHeaders } from '../../../services/balancer/index.js';

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/);
const hopName = fc.constantFrom(...HOP_BY_HOP).chain((name) => fc.constantFrom(name, name.toUpperCase(), name[0]?.toUpperCase() + name.slice(1)));
const value = fc.stringMatching(/^[ -~]{0,20}$/);

describe('properties', () => {
  it('when any header list is forwarded, then no hop-by-hop or Connection-named field survives and every other value keeps its order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(token, hopName), value), { maxLength: 20 }),
        fc.array(token, { maxLength: 3 }),
        (fields, named) => {
          const raw = [...fields.flat(), ...(named.length > 0 ? ['Connection', named.join(', ')] : [])];
          const out = forwardableHeaders(raw);
          // Every Connection field names fields to drop (RFC 9110 §7.6.1), the
          // generated ones among `fields` included, not only the appended one.
          const namedInFields = fields
            .filter(([name]) => name.toLowerCase() === 'connection')
            .flatMap(([, v]) => v.split(',').map((t) => t.trim().toLowerCase()))
            .filter((t) => t.length > 0);
          const dropped = new Set([...HOP_BY_HOP, ...named.map((n) => n.toLowerCase()), ...namedInFields]);
          for (const name of Object.keys(out)) {
            expect(dropped.has(name)).toBe(false);
            expect(name).toBe(name.toLowerCase());
          }
          const expected = new Map<string, string[]>();
          for (const [name, v] of fields) {
            const lower = name.toLowerCase();
            if (!dropped.has(lower)) expected.set(lower, [...(expected.get(lower) ?? []), v]);
          }
          for (const [name, values] of expected) {
            const got = out[name];
            expect(Array.isArray(got) ? got : [got]).toEqual(values);
          }
        },
      ),
    );
  });

  it('when requests and retries come and go in any order, then retries in progress never exceed max(min, floor(ratio × active))', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.constantFrom('start', 'finish', 'retry', 'release'), { maxLength: 200 }),
        (ratio, min, ops) => {
          const budget = new RetryBudget(ratio, min);
          let held = 0;
          for (const op of ops) {
            if (op === 'start') budget.requestStarted();
            else if (op === 'finish') budget.requestFinished();
            else if (op === 'retry') {
              const limit = Math.max(min, Math.floor(ratio * budget.activeRequests));
              const granted = budget.tryAcquire();
              expect(granted).toBe(held < limit);
              if (granted) held += 1;
            } else if (held > 0) {
              budget.release();
              held -= 1;
            }
            expect(budget.inProgress).toBe(held);
          }
        },
      ),
    );
  });
});
