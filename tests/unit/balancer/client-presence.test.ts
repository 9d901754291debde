import { ClientPresence } from '../../../services/balancer/proxy/client-presence.js';

describe('ClientPresence', () => {
  it('when the client leaves, then the watcher runs once and a signal taken before or after is aborted', () => {
    const presence = new ClientPresence();
    const before = presence.signal;
    let calls = 0;
    presence.watch(() => (calls += 1));
    presence.leave();
    presence.leave();
    expect(calls).toBe(1);
    expect(presence.gone).toBe(true);
    expect(before.aborted).toBe(true);
    expect(presence.signal.aborted).toBe(true);
  });

  it('when a watcher was removed, then leaving does not call it', () => {
    const presence = new ClientPresence();
    let calls = 0;
    const stop = presence.watch(() => (calls += 1));
    stop();
    presence.leave();
    expect(calls).toBe(0);
  });

  it('when an older watcher removes itself after a newer one took over, then the newer one stays', () => {
    const presence = new ClientPresence();
    const seen: string[] = [];
    const stopFirst = presence.watch(() => seen.push('first'));
    presence.watch(() => seen.push('second'));
    stopFirst();
    presence.leave();
    expect(seen).toEqual(['second']);
  });
});
