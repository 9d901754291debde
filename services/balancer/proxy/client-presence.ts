/**
 * Whether the client of one exchange is still there, and what to stop when
 * it leaves. The common path needs only a flag and one callback (the running
 * upstream try's abort); an AbortSignal is built only for the rare waits that
 * take one (retry backoff, a retry-budget slot). An AbortController per
 * request was a measurable share of the balancer's CPU in the small-GET
 * profile (bench/RESULTS.md).
 */
export class ClientPresence {
  private controller: AbortController | undefined;
  private onGone: (() => void) | undefined;
  private left = false;

  get gone(): boolean {
    return this.left;
  }

  /** Called once the client connection closed before its response was complete. */
  leave(): void {
    if (this.left) return;
    this.left = true;
    const callback = this.onGone;
    this.onGone = undefined;
    callback?.();
    this.controller?.abort();
  }

  /** Sets what to stop when the client leaves (one watcher at a time: the running try); returns the remover. */
  watch(callback: () => void): () => void {
    this.onGone = callback;
    return () => {
      if (this.onGone === callback) this.onGone = undefined;
    };
  }

  /** An AbortSignal for APIs that want one; aborted when the client leaves. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.left) this.controller.abort();
    }
    return this.controller.signal;
  }
}
