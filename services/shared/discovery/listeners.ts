import type { Endpoint, EndpointListener } from './endpoint.js';

/** The subscriber list every source shares: add, remove, and notify with the full set. */
export class EndpointListeners {
  private readonly listeners = new Set<EndpointListener>();

  add(listener: EndpointListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(endpoints: readonly Endpoint[]): void {
    for (const listener of this.listeners) listener(endpoints);
  }
}
