import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { closeServer, listen } from '../../../services/shared/index.js';
import { freePort, freePortRange } from '../../helpers/free-port.js';

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('freePort', () => {
  it('hands out distinct ports below the range the kernel picks listen(0) and outgoing ports from', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 40; i += 1) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) expect(port).toBeLessThan(ephemeralStart);
    // and listen(0) never lands among them
    const kernelPicked = createServer();
    const picked = await listen(kernelPicked, 0, '127.0.0.1');
    await closeServer(kernelPicked);
    expect(picked).toBeGreaterThanOrEqual(ephemeralStart);
  });

  it('skips a port something already listens on', async () => {
    const first = await freePortRange(3);
    // Hold the port after the three just handed out: the next draw must step over it.
    const held = createServer();
    await listen(held, first + 3, '127.0.0.1');
    try {
      const next = await freePort();
      expect(next).not.toBe(first + 3);
      expect([first, first + 1, first + 2]).not.toContain(next);
    } finally {
      await closeServer(held);
    }
  });
});
