/**
 * Whether `url` answers 2xx within `timeoutMs`; a refused or reset
 * connection is a no. The body is always read to its end: a fetch() whose
 * body is left unread keeps its connection busy, and when the server is
 * killed later (these tests kill workers) the reset surfaces as an uncaught
 * "terminated: read ECONNRESET" outside any test.
 */
export async function answersOk(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
