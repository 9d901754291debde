/**
 * Rows of `kubectl auth can-i --list` as "resource verbs" (e.g.
 * "endpointslices.discovery.k8s.io [get list watch]"); non-resource URL rows
 * are dropped. Both Kubernetes tiers compare an account's rows with those of
 * an account no Flotilla role binds.
 */
export function resourceRules(listOutput: string): string[] {
  return listOutput
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s{2,}/))
    .filter((cols) => cols.length >= 3 && cols[0] !== '' && !(cols[0] ?? '').startsWith('['))
    .map((cols) => `${cols[0] ?? ''} ${cols.at(-1) ?? ''}`);
}
