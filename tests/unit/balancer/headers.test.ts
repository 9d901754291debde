import { HOP_BY_HOP, addForwardingHeaders, forwardableHeaders, relayableResponseHeaders, headerMapOf, requestIdFrom } from '../../../services/balancer/index.js';

describe('hop-by-hop headers', () => {
  it('when a request carries every RFC 9110 hop-by-hop field, then none is forwarded', () => {
    const raw = [
      'Host', 'example',
      'Connection', 'keep-alive',
      'Keep-Alive', 'timeout=5',
      'Proxy-Connection', 'keep-alive',
      'Proxy-Authorization', 'Basic x',
      'TE', 'trailers',
      'Trailer', 'X-Checksum',
      'Transfer-Encoding', 'chunked',
      'Upgrade', 'h2c',
      'Accept', 'application/json',
    ];
    expect(forwardableHeaders(raw)).toEqual({ host: 'example', accept: 'application/json' });
    expect(HOP_BY_HOP.has('transfer-encoding')).toBe(true);
  });

  it('when Connection names other fields, then those are dropped too, case-insensitively', () => {
    const raw = ['Connection', 'close, X-Secret', 'connection', 'x-other', 'X-SECRET', '1', 'X-Other', '2', 'X-Kept', '3'];
    expect(forwardableHeaders(raw)).toEqual({ 'x-kept': '3' });
  });

  it('when a field repeats, then every value is kept in order', () => {
    const raw = ['Cookie', 'a=1', 'X-Tag', 'one', 'x-tag', 'two'];
    expect(forwardableHeaders(raw)).toEqual({ cookie: 'a=1', 'x-tag': ['one', 'two'] });
  });

  it('when the upgrade path keeps Upgrade, then it survives while Connection still goes', () => {
    const raw = ['Connection', 'Upgrade', 'Upgrade', 'websocket'];
    expect(forwardableHeaders(raw, new Set(), new Set(['upgrade']))).toEqual({ upgrade: 'websocket' });
  });

  it('when an upstream response has hop-by-hop fields, then they are stripped, set-cookie kept twice, and Via and our request id added', () => {
    const raw = [
      'X-Hop', 'h',
      'Connection', 'keep-alive, x-hop',
      'Keep-Alive', 'timeout=72',
      'Transfer-Encoding', 'chunked',
      'Set-Cookie', 'a=1',
      'Set-Cookie', 'b=2',
      'ETag', '"3"',
      'X-Request-Id', 'from-upstream',
    ].map((text) => Buffer.from(text, 'latin1'));
    const flat = relayableResponseHeaders(raw, 'r1');
    expect(flat).toEqual(['set-cookie', 'a=1', 'set-cookie', 'b=2', 'etag', '"3"', 'via', '1.1 flotilla-balancer', 'x-request-id', 'r1']);
    expect(headerMapOf(flat)).toEqual({ 'set-cookie': ['a=1', 'b=2'], etag: '"3"', via: '1.1 flotilla-balancer', 'x-request-id': 'r1' });
  });

  it('when a response field value has bytes above 0x7f, then they pass through unchanged (latin1 both ways)', () => {
    const value = Buffer.from('caf\u00e9 \u2713', 'utf8');
    const flat = relayableResponseHeaders([Buffer.from('X-Note'), value], 'r1');
    expect(Buffer.from(flat[1] as string, 'latin1').equals(value)).toBe(true);
  });
});

describe('forwarding headers', () => {
  it('when a client already sent X-Forwarded-For, then the client address is appended and proto/host are this hop', () => {
    const headers = forwardableHeaders(['X-Forwarded-For', '203.0.113.9', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil']);
    addForwardingHeaders(headers, { clientIp: '10.0.0.5', host: 'api.example', requestId: 'r1', proto: 'http' });
    expect(headers).toMatchObject({
      'x-forwarded-for': '203.0.113.9, 10.0.0.5',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'api.example',
      'x-request-id': 'r1',
      via: '1.1 flotilla-balancer',
    });
  });

  it('when the client request id is plain, then it is kept; when it is hostile or too long, then a new one is generated', () => {
    expect(requestIdFrom('abc-123_X.y:z')).toBe('abc-123_X.y:z');
    expect(requestIdFrom(['first', 'second'])).toBe('first');
    for (const bad of ['has space', 'a\u0000b', 'x'.repeat(129), '', '<script>']) {
      expect(requestIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
