import { usageError } from '../errors.js';

/** put/get/del work on the virtual user's own keys; incr/cget on shared counters. */
export const OPS = ['put', 'get', 'del', 'incr', 'cget'] as const;
export type Op = (typeof OPS)[number];

export const DEFAULT_MIX = 'put=30,get=30,del=5,incr=25,cget=10';

export type OpMix = Readonly<Record<Op, number>>;

/** "put=30,get=50,incr=20": integer weights; omitted operations get 0. */
export function parseMix(text: string): OpMix {
  const mix: Record<Op, number> = { put: 0, get: 0, del: 0, incr: 0, cget: 0 };
  for (const part of text.split(',').map((item) => item.trim()).filter((item) => item !== '')) {
    const match = /^([a-z]+)=(\d{1,6})$/.exec(part);
    const name = match?.[1];
    if (match === null || name === undefined || !(OPS as readonly string[]).includes(name)) {
      throw usageError(`--mix: "${part}" must be <op>=<weight> with op one of ${OPS.join(', ')} (e.g. ${DEFAULT_MIX})`);
    }
    mix[name as Op] = Number(match[2]);
  }
  if (OPS.every((op) => mix[op] === 0)) throw usageError('--mix: at least one operation needs a weight above 0');
  return mix;
}

/** Picks operations in proportion to their weights. */
export class OpPicker {
  private readonly cumulative: { op: Op; upTo: number }[] = [];
  private readonly total: number;

  constructor(mix: OpMix) {
    let sum = 0;
    for (const op of OPS) {
      if (mix[op] <= 0) continue;
      sum += mix[op];
      this.cumulative.push({ op, upTo: sum });
    }
    this.total = sum;
  }

  pick(random: () => number): Op {
    const roll = random() * this.total;
    for (const entry of this.cumulative) if (roll < entry.upTo) return entry.op;
    // Only reachable through floating-point rounding at the very top.
    return this.cumulative[this.cumulative.length - 1]?.op ?? 'get';
  }
}

export function formatMix(mix: OpMix): string {
  return OPS.filter((op) => mix[op] > 0)
    .map((op) => `${op}=${mix[op]}`)
    .join(',');
}
