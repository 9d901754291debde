import type { Server } from 'node:http';

/**
 * How the bench's Node peer scripts (the minimal proxy, http-proxy, the
 * minimal worker) listen: on PORT (0 = any) at 127.0.0.1, with keep-alive
 * longer than wrk's and the runners' idle times, announcing
 * `{"msg": message, "port": N}` on stdout once listening (what the runner
 * waits for), and exiting at once on SIGTERM.
 */
export function listenAsPeer(server: Server, message: string): void {
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.env.PORT ?? '0'), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    process.stdout.write(`${JSON.stringify({ msg: message, port })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
