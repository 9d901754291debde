import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { freePort, freePortRange } from '../../helpers/free-port.js';

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('freePort', () => {
  it('hands out distinct ports below the range the kernel picks listen(0) and outgoing ports from', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 40; i += 1) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) expect(port).toBeLessThan(ephemeralStart);
    // and listen(0) never lands among them
    const kernelPicked = await listen(0);
    const address = kernelPicked.address();
    await new Promise((done) => kernelPicked.close(done));
    expect(typeof address === 'object' && address !== null && address.port >= ephemeralStart).toBe(true);
  });

  it('skips a port something already listens on', async () => {
    const first = await freePortRange(3);
    // Hold the port after the three just handed out: the next draw must step over it.
    const held = await listen(first + 3);
    try {
      const next = await freePort();
      expect(next).not.toBe(first + 3);
      expect([first, first + 1, first + 2]).not.toContain(next);
    } finally {
      await new Promise((done) => held.close(done));
    }
  });
});
