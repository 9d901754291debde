import { EndpointListeners, delay, type Endpoint, type EndpointListener, type EndpointSource } from '../../shared/index.js';

export interface IpcEndpointSourceOptions {
  /** Asks the primary for the current set (it answers with a flotilla:endpoints message, fed to receive()). */
  readonly askPrimary: () => void;
  /** How long start() waits for the first set before going on with none (the primary answers in milliseconds). */
  readonly firstViewTimeoutMs?: number;
}

/**
 * The endpoint source of a cluster worker: the primary runs the real
 * discovery (one EndpointSlice watch per pod, not one per worker) and pushes
 * every new set over IPC; the worker's message handler calls receive().
 * Nothing here knows about IPC, so it is tested with plain calls.
 */
export class IpcEndpointSource implements EndpointSource {
  private endpoints: readonly Endpoint[] = Object.freeze([]);
  private upstreamDescription = 'pending';
  private readonly listeners = new EndpointListeners();
  private resolveFirst: (() => void) | undefined;
  private readonly firstView: Promise<void>;

  constructor(private readonly options: IpcEndpointSourceOptions) {
    this.firstView = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  get description(): string {
    return `primary:${this.upstreamDescription}`;
  }

  async start(): Promise<void> {
    this.options.askPrimary();
    const timeout = new AbortController();
    await Promise.race([this.firstView, delay(this.options.firstViewTimeoutMs ?? 10_000, timeout.signal)]);
    timeout.abort();
  }

  async stop(): Promise<void> {}

  current(): readonly Endpoint[] {
    return this.endpoints;
  }

  subscribe(listener: EndpointListener): () => void {
    return this.listeners.add(listener);
  }

  /** A set from the primary's discovery (`description` is that source's, e.g. "kubernetes(ns/svc)"). */
  receive(description: string, endpoints: readonly Endpoint[]): void {
    this.upstreamDescription = description;
    this.endpoints = Object.freeze([...endpoints]);
    this.resolveFirst?.();
    this.resolveFirst = undefined;
    this.listeners.notify(this.endpoints);
  }
}
