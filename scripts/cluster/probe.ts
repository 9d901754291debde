/**
 * `node probe.js <url>`: prints the HTTP status of one GET (0 when there is
 * no answer within 2 s). The cluster tool runs it inside the cluster's
 * network namespace to ask a daemon's health endpoint, which is reachable
 * only there. TLS certificates are not checked: this asks "does it answer",
 * and the serving certificates of kubelet and the control plane are the
 * cluster's own.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const url = process.argv[2];
if (url === undefined) {
  console.error('usage: probe.js <url>');
  process.exit(2);
}
const request = url.startsWith('https:') ? httpsRequest : httpRequest;
const req = request(url, { timeout: 2_000, rejectUnauthorized: false }, (res) => {
  res.resume();
  console.log(res.statusCode ?? 0);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => console.log(0));
req.end();
